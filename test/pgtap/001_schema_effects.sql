-- pgTAP: the schema effects of upgrade and downgrade, asserted with pgTAP's
-- own functions.  Everything runs in one transaction that is rolled back.
BEGIN;
SET client_min_messages = warning;
SELECT plan(30);

SELECT migr.revision('p1', NULL, 'accounts',
    'CREATE TABLE accounts (id bigint PRIMARY KEY, email varchar(200) NOT NULL);',
    'DROP TABLE accounts;', create_date => '2024-01-01');
SELECT migr.revision('p2', 'p1', 'accounts.name',
    'ALTER TABLE accounts ADD COLUMN name text;',
    'ALTER TABLE accounts DROP COLUMN name;', create_date => '2024-01-02');
SELECT migr.revision('p3', 'p2', 'index on email',
    'CREATE UNIQUE INDEX uq_accounts_email ON accounts (email);',
    'DROP INDEX uq_accounts_email;', create_date => '2024-01-03');
SELECT migr.revision('q1', 'p1', 'orders (branch)',
    'CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id));
     CREATE INDEX ix_orders_account_id ON orders (account_id);',
    'DROP TABLE orders;', 'orders', create_date => '2024-01-04');

SELECT hasnt_table('accounts', 'nothing exists before the first upgrade');
SELECT throws_ok($$SELECT * FROM migr.upgrade('head')$$, 'MG001', NULL,
                 'head with two heads is ambiguous (MG001)');
SELECT results_eq($$SELECT revision FROM migr.upgrade('p3')$$,
                  ARRAY['p1', 'p2', 'p3'], 'upgrade p3 applies its chain in order');
SELECT has_table('accounts', 'accounts exists');
SELECT col_type_is('accounts', 'email', 'character varying(200)', 'email is varchar(200)');
SELECT col_not_null('accounts', 'email', 'email is NOT NULL');
SELECT has_column('accounts', 'name', 'accounts.name was added');
SELECT has_index('accounts', 'uq_accounts_email', ARRAY['email'], 'unique index on email');
SELECT index_is_unique('public', 'accounts', 'uq_accounts_email', 'the index is unique');
SELECT hasnt_table('orders', 'the orders branch is not applied yet');
SELECT set_eq($$SELECT * FROM migr.current()$$, ARRAY['p3'], 'current is p3');

SELECT results_eq($$SELECT revision FROM migr.upgrade('orders@head')$$,
                  ARRAY['q1'], 'the labelled branch upgrades on its own');
SELECT has_table('orders', 'orders exists');
SELECT fk_ok('orders', 'account_id', 'accounts', 'id', 'orders references accounts');
SELECT has_index('orders', 'ix_orders_account_id', ARRAY['account_id'], 'the foreign key has an index');
SELECT set_eq($$SELECT * FROM migr.current()$$, ARRAY['p3', 'q1'], 'two current heads');
SELECT is_empty($$SELECT * FROM migr.upgrade('heads')$$, 'upgrading again does nothing');

SELECT results_eq($$SELECT revision FROM migr.downgrade('p1')$$,
                  ARRAY['p3', 'p2', 'q1'], 'downgrade to p1 reverts both branches, newest first');
SELECT hasnt_column('accounts', 'name', 'accounts.name is gone');
SELECT hasnt_index('accounts', 'uq_accounts_email', 'the email index is gone');
SELECT hasnt_table('orders', 'orders is gone');
SELECT has_table('accounts', 'accounts stays: p1 is the target');

SELECT migr.revision('p4', 'p3', 'one way', 'ALTER TABLE accounts ADD COLUMN legacy int;',
                     create_date => '2024-01-05');
SELECT lives_ok($$SELECT * FROM migr.upgrade('p4')$$, 'an irreversible revision applies');
SELECT throws_ok($$SELECT * FROM migr.downgrade('p1')$$, 'MG002', NULL,
                 'downgrading through it fails with MG002');
SELECT has_column('accounts', 'legacy', 'and nothing was reverted');
SELECT throws_ok($$SELECT migr.revision('p4', 'p3', 'one way', 'SELECT 1;')$$, 'MG003', NULL,
                 'changing the SQL of an applied revision fails with MG003');
SELECT throws_ok($$SELECT migr.revision('bad id', NULL, 'x', '')$$, '22023', NULL,
                 'an invalid id fails with 22023');
SELECT throws_ok($$SELECT * FROM migr.upgrade('nope')$$, '42704', NULL,
                 'an unknown target fails with 42704');
SELECT results_eq($$SELECT operation, count(*)::int FROM migr.event GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('downgrade', 3), ('upgrade', 7)$$,
                  'every step is in the event log');
SELECT results_eq($$SELECT count(*)::int FROM migr.applied$$, ARRAY[4],
                  'the applied set holds p1..p4');

SELECT * FROM finish();
ROLLBACK;
