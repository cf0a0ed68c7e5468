-- pgTAP: the schema that idempotent operations and checks leave behind.
BEGIN;
SET client_min_messages = warning;
SELECT plan(26);

CREATE TABLE users (id bigint PRIMARY KEY, email text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);

SELECT migr.revision('o1', NULL, 'users.name, orders fk',
    $$SELECT migr.add_column('users', 'name', 'varchar(80)', nullable => false, server_default => $d$''$d$);
      SELECT migr.create_index('users', ARRAY['email'], "unique" => true);
      SELECT migr.create_check_constraint('users', $c$email LIKE '%@%'$c$);
      SELECT migr.create_foreign_key('orders', ARRAY['user_id'], 'users', ARRAY['id'], on_delete => 'cascade');$$,
    $$SELECT migr.drop_constraint('orders', 'fk_orders_user_id_users');
      SELECT migr.drop_index('orders', 'ix_orders_user_id');
      SELECT migr.drop_constraint('users', 'ck_users_email');
      SELECT migr.drop_index('users', 'ix_users_email');
      SELECT migr.drop_column('users', 'name');$$,
    create_date => '2024-01-01',
    verify => $$migr.has_index_on('orders', ARRAY['user_id'])$$,
    verify_down => $$NOT migr.has_column('users', 'name')$$);

SELECT lives_ok($$SELECT * FROM migr.upgrade()$$, 'the revision applies');
SELECT has_column('users', 'name', 'users.name exists');
SELECT col_type_is('users', 'name', 'character varying(80)', 'users.name is varchar(80)');
SELECT col_not_null('users', 'name', 'users.name is NOT NULL');
SELECT col_default_is('users', 'name', '', 'users.name defaults to the empty string');
SELECT has_index('users', 'ix_users_email', ARRAY['email'], 'the conventional index name');
SELECT index_is_unique('public', 'users', 'ix_users_email', 'the index is unique');
SELECT col_has_check('users', 'email', 'email has a check constraint');
SELECT fk_ok('orders', 'user_id', 'users', 'id', 'orders.user_id references users.id');
SELECT has_index('orders', 'ix_orders_user_id', ARRAY['user_id'], 'the foreign key got its index');
SELECT is(migr.has_index_on('orders', ARRAY['user_id']), true, 'has_index_on agrees with pgTAP');

-- running every operation again changes nothing
SELECT is(migr.add_column('users', 'name', 'varchar(80)', nullable => false), NULL, 'add_column again is a no-op');
SELECT is(migr.create_index('users', ARRAY['email'], "unique" => true), NULL, 'create_index again is a no-op');
SELECT is(migr.create_foreign_key('orders', ARRAY['user_id'], 'users', ARRAY['id'], on_delete => 'cascade'),
          NULL, 'create_foreign_key again is a no-op');
SELECT throws_ok($$SELECT migr.add_column('users', 'name', 'integer')$$, 'MG004', NULL,
                 'a conflicting definition is MG004');

SELECT lives_ok($$SELECT * FROM migr.downgrade('base')$$, 'the revision reverts');
SELECT hasnt_column('users', 'name', 'users.name is gone');
SELECT hasnt_index('users', 'ix_users_email', 'the index is gone');
SELECT hasnt_index('orders', 'ix_orders_user_id', 'the fk index is gone');
SELECT col_isnt_fk('orders', 'user_id', 'the foreign key is gone');

-- a revision skipped because its change is already there
ALTER TABLE users ADD COLUMN name varchar(80) NOT NULL DEFAULT '';
SELECT migr.revision('o2', NULL, 'users.name again',
    'ALTER TABLE users ADD COLUMN name varchar(80);', 'ALTER TABLE users DROP COLUMN name;',
    create_date => '2024-01-02', skip_if => $$migr.has_column('users', 'name')$$);
SELECT results_eq($$SELECT revision, operation FROM migr.upgrade('o2')$$,
                  $$VALUES ('o2'::text, 'skip'::text)$$, 'the change in effect is skipped');
SELECT col_not_null('users', 'name', 'and the hand-made column is untouched');

-- names of 64 bytes or more: PostgreSQL keeps their first 63 bytes (62 for
-- two-byte characters), and the checks and operations look up the same name
SELECT migr.revision('o3', NULL, 'a long column, added by hand first',
    format('ALTER TABLE users ADD COLUMN %I int;', repeat('é', 40)),
    format('ALTER TABLE users DROP COLUMN %I;', repeat('é', 40)),
    create_date => '2024-01-03', skip_if => format('migr.has_column(%L, %L)', 'users', repeat('é', 40)));
ALTER TABLE users ADD COLUMN "éééééééééééééééééééééééééééééééééééééééé" int;
SELECT has_column('users', repeat('é', 31)::name, 'the column is stored under its first 62 bytes');
SELECT results_eq($$SELECT revision, operation FROM migr.upgrade('o3')$$,
                  $$VALUES ('o3'::text, 'skip'::text)$$, 'skip_if finds the long column');
SELECT isnt(migr.add_column('orders', repeat('n', 64), 'int'), NULL, 'add_column with a 64-byte name adds it');
SELECT is(migr.add_column('orders', repeat('n', 64), 'int'), NULL, 'and the second call is a no-op');

SELECT * FROM finish();
ROLLBACK;
