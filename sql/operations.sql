-- operations: idempotent op.* — first run changes, second is a no-op,
-- a conflicting state is an error, an injection attempt is harmless
SET client_min_messages = notice;
CREATE TABLE users (id int PRIMARY KEY, email text);
CREATE TABLE "Order Items" (id int PRIMARY KEY, "User Id" int);
-- add_column
SELECT migr.add_column('users', 'name', 'varchar(50)', nullable => false, server_default => $$'anon'$$);
SELECT migr.add_column('users', 'name', 'character varying(50)', nullable => false);
SELECT migr.add_column('users', 'name', 'text');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.add_column('users', 'x; DROP TABLE users; --', 'int');
SELECT migr.has_column('users', 'x; DROP TABLE users; --') AS odd_column_added, migr.has_table('users') AS users_kept;
SELECT migr.add_column('users', 'y', 'int', server_default => '1); DROP TABLE users; SELECT (1');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.add_column('users', 'y', 'int; DROP TABLE users');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.add_column('nope', 'y', 'int');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.add_column('users', 'y', 'no_such_type');
\echo :LAST_ERROR_SQLSTATE
-- alter_column: type, nullability, default, rename; only what differs
SELECT migr.alter_column('users', 'name', type => 'varchar(100)', nullable => true);
SELECT migr.alter_column('users', 'name', type => 'varchar(100)', nullable => true);
SELECT migr.alter_column('users', 'name', server_default => $$'nobody'$$);
SELECT migr.column_default('users', 'name');
SELECT migr.alter_column('users', 'name', drop_default => true);
SELECT migr.alter_column('users', 'name', drop_default => true);
SELECT migr.alter_column('users', 'name', new_name => 'full_name');
SELECT migr.alter_column('users', 'name', new_name => 'full_name');
SELECT migr.alter_column('users', 'nope', type => 'int');
\echo :LAST_ERROR_SQLSTATE
-- rename_column, drop_column
SELECT migr.rename_column('users', 'x; DROP TABLE users; --', 'odd');
SELECT migr.rename_column('users', 'x; DROP TABLE users; --', 'odd');
SELECT migr.rename_column('users', 'odd', 'email');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.drop_column('users', 'odd');
SELECT migr.drop_column('users', 'odd');
-- create_index / drop_index, named by the convention when no name is given
SELECT migr.create_index('users', ARRAY['email']);
SELECT migr.create_index('users', ARRAY['email']);
SELECT migr.create_index('users', ARRAY['full_name'], name => 'ix_users_email');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_index('users', ARRAY['email'], name => 'uq_users_email_live', "unique" => true,
                         where_clause => 'email IS NOT NULL');
SELECT migr.create_index('users', ARRAY['email'], name => 'users_pkey');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_index('users', ARRAY['email'], name => 'x', where_clause => 'true) WITH (fillfactor = 10');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_index('users', ARRAY['nope']);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.drop_index('users', 'uq_users_email_live');
SELECT migr.drop_index('users', 'uq_users_email_live');
-- check and unique constraints
SELECT migr.create_check_constraint('users', $$email LIKE '%@%'$$);
SELECT migr.create_check_constraint('users', $$email LIKE '%@%'$$);
SELECT migr.create_check_constraint('users', 'id > 0', name => 'users_pkey');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_check_constraint('users', 'true');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_unique_constraint('users', ARRAY['email']);
SELECT migr.create_unique_constraint('users', ARRAY['email']);
SELECT migr.create_unique_constraint('users', ARRAY['full_name'], name => 'uq_users_email');
\echo :LAST_ERROR_SQLSTATE
-- foreign keys get an index on the referencing columns
SELECT migr.create_foreign_key('"Order Items"', ARRAY['User Id'], 'users', ARRAY['id'], on_delete => 'cascade');
SELECT migr.create_foreign_key('"Order Items"', ARRAY['User Id'], 'users', ARRAY['id'], on_delete => 'cascade');
SELECT migr.has_index_on('"Order Items"', ARRAY['User Id']) AS fk_indexed;
SELECT migr.create_foreign_key('"Order Items"', ARRAY['id'], 'users', ARRAY['id'], index => false);
SELECT migr.create_foreign_key('"Order Items"', ARRAY['id'], 'users', ARRAY['id'],
                               name => 'fk_Order Items_User Id_users');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_foreign_key('"Order Items"', ARRAY['id'], 'users', ARRAY['id'], on_delete => 'explode');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_foreign_key('"Order Items"', ARRAY['id'], 'nope', ARRAY['id']);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.drop_constraint('"Order Items"', 'fk_Order Items_id_users');
SELECT migr.drop_constraint('"Order Items"', 'fk_Order Items_id_users');
-- rename_table
SELECT migr.rename_table('"Order Items"', 'order_items');
SELECT migr.rename_table('"Order Items"', 'order_items');
SELECT migr.rename_table('order_items', 'users');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.rename_table('nothing_here', 'nor_here');
\echo :LAST_ERROR_SQLSTATE
-- bad arguments
SELECT migr.alter_column('users', 'email', server_default => $$'x'$$, drop_default => true);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_foreign_key('order_items', ARRAY['id', 'User Id'], 'users', ARRAY['id']);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_index('users', ARRAY['email'], name => 'order_items');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.add_column(NULL, 'a', 'int');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.add_column('users', '', 'int');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_index('users', '{}');
\echo :LAST_ERROR_SQLSTATE
-- messages quote raw names, never an already-quoted name
SELECT migr.add_column('"No Such Table"', 'a', 'int');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.rename_table('order_items', 'Order Items');
SELECT migr.rename_table('order_items', 'Order Items');
SELECT migr.rename_table('"Order Items"', 'users');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.rename_table('"Order Items"', 'order_items');
-- a missing table is an error, whatever new_name happens to name elsewhere
SELECT migr.rename_table('no_such_table', 'pg_class');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.rename_table('no_such_table', 'users_pkey');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.rename_table('no_such_table', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.rename_column('no_such_table', 'a', 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.rename_column('users', 'no_such_column', 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.drop_column('no_such_table', 'a');
\echo :LAST_ERROR_SQLSTATE
-- names of 64 bytes or more are truncated to 63 as PostgreSQL's parser does,
-- with its NOTICE, so the second call finds what the first one made; a
-- multibyte name is cut before the character the 63rd byte would split
SELECT repeat('c', 70) AS long_col, repeat('é', 40) AS mb_col, repeat('r', 64) AS renamed_col,
       repeat('i', 64) AS long_ix, repeat('ü', 33) AS mb_ix, repeat('u', 65) AS long_uq,
       repeat('k', 66) AS long_ck, repeat('f', 67) AS long_fk, repeat('t', 64) AS long_tbl \gset
CREATE TABLE long_names (id int PRIMARY KEY, ref int);
SELECT migr.add_column('long_names', :'long_col', 'int');
SELECT migr.add_column('long_names', :'long_col', 'int');
SELECT migr.add_column('long_names', :'mb_col', 'text');
SELECT migr.add_column('long_names', :'mb_col', 'text');
SELECT migr.alter_column('long_names', :'long_col', type => 'bigint', nullable => false);
SELECT migr.alter_column('long_names', :'long_col', type => 'bigint', nullable => false);
SELECT migr.rename_column('long_names', :'long_col', :'renamed_col');
SELECT migr.rename_column('long_names', :'long_col', :'renamed_col');
SELECT migr.create_index('long_names', ARRAY[:'mb_col'], name => :'long_ix');
SELECT migr.create_index('long_names', ARRAY[:'mb_col'], name => :'long_ix');
SELECT migr.create_index('long_names', ARRAY['ref'], name => :'mb_ix');
SELECT migr.create_index('long_names', ARRAY['ref'], name => :'mb_ix');
SELECT migr.create_unique_constraint('long_names', ARRAY[:'renamed_col'], name => :'long_uq');
SELECT migr.create_unique_constraint('long_names', ARRAY[:'renamed_col'], name => :'long_uq');
SELECT migr.create_check_constraint('long_names', 'ref > 0', name => :'long_ck');
SELECT migr.create_check_constraint('long_names', 'ref > 0', name => :'long_ck');
SELECT migr.create_foreign_key('long_names', ARRAY['ref'], 'long_names', ARRAY['id'], name => :'long_fk');
SELECT migr.create_foreign_key('long_names', ARRAY['ref'], 'long_names', ARRAY['id'], name => :'long_fk');
SELECT migr.rename_table('long_names', :'long_tbl');
SELECT migr.rename_table('long_names', :'long_tbl');
SELECT migr.has_table(:'long_tbl') AS long_table, migr.has_column(:'long_tbl', :'mb_col') AS mb_column,
       migr.has_column(:'long_tbl', :'renamed_col') AS renamed_column,
       migr.has_index(:'long_tbl', :'mb_ix') AS mb_index,
       migr.has_constraint(:'long_tbl', :'long_fk') AS long_fk;
SELECT relname, octet_length(relname) FROM pg_class
 WHERE relnamespace = 'public'::regnamespace AND octet_length(relname) > 60 ORDER BY relname COLLATE "C";
SELECT attname, octet_length(attname) FROM pg_attribute WHERE attrelid = (:'long_tbl')::regclass AND attnum > 0
 ORDER BY attnum;
SELECT conname, octet_length(conname) FROM pg_constraint WHERE conrelid = (:'long_tbl')::regclass
 ORDER BY conname COLLATE "C";
SELECT migr.drop_constraint(:'long_tbl', :'long_ck');
SELECT migr.drop_constraint(:'long_tbl', :'long_ck');
SELECT migr.drop_index(:'long_tbl', :'mb_ix');
SELECT migr.drop_index(:'long_tbl', :'mb_ix');
SELECT migr.drop_column(:'long_tbl', :'mb_col');
SELECT migr.drop_column(:'long_tbl', :'mb_col');
DROP TABLE :"long_tbl";
-- an INVALID index (a failed CREATE INDEX CONCURRENTLY) is not the index
-- asked for: under its name, an error saying how to fix it; under another
-- name, it does not stand in for the index asked for
CREATE TABLE dup (id int PRIMARY KEY, a int);
INSERT INTO dup VALUES (1, 1), (2, 1);
CREATE UNIQUE INDEX CONCURRENTLY "Dup A" ON dup (a);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_index('dup', ARRAY['a'], name => 'Dup A', "unique" => true);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_index('dup', ARRAY['a'], name => 'Dup A');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_foreign_key('dup', ARRAY['a'], 'dup', ARRAY['id']);
SELECT migr.drop_index('dup', 'Dup A');
SELECT migr.create_index('dup', ARRAY['a'], name => 'Dup A');
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'dup'::regclass ORDER BY 1;
DROP TABLE dup;
-- the resulting schema
SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid IN ('users'::regclass, 'order_items'::regclass)
 ORDER BY 1;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid IN ('users'::regclass, 'order_items'::regclass) ORDER BY 1;
SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
 WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
-- operations inside a revision make it idempotent
SELECT migr.revision('op1', NULL, 'users.age',
    $$SELECT migr.add_column('users', 'age', 'int');$$,
    $$SELECT migr.drop_column('users', 'age');$$, create_date => '2024-01-01 00:00:00+00');
SELECT migr.add_column('users', 'age', 'int');
SELECT revision, operation FROM migr.upgrade();
SELECT revision, operation FROM migr.downgrade('base');
SELECT migr.has_column('users', 'age') AS age_left;
DROP TABLE order_items, users;
DROP EXTENSION migr;
CREATE EXTENSION migr;
