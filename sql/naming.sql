-- naming: the SQLAlchemy/Alembic naming convention
SELECT migr.name('ix', 'users', ARRAY['email']) AS ix,
       migr.name('uq', 'users', ARRAY['email', 'tenant_id']) AS uq,
       migr.name('ck', 'users', ARRAY['email_format']) AS ck,
       migr.name('fk', 'orders', ARRAY['user_id'], 'users') AS fk,
       migr.name('pk', 'users') AS pk;
-- a qualified or quoted table name contributes its bare name
SELECT migr.name('ix', 'app.users', ARRAY['email']) AS qualified,
       migr.name('ix', '"Order Items"', ARRAY['User Id']) AS quoted,
       migr.name('fk', 'app.orders', ARRAY['user_id'], 'app.users') AS fk_qualified;
-- longer than 63 bytes: cut, with a hash suffix, deterministic and distinct
SELECT length(migr.name('ix', repeat('t', 40), ARRAY[repeat('c', 30)])) AS len_long,
       migr.name('ix', repeat('t', 40), ARRAY[repeat('c', 30)]) AS long_name;
SELECT migr.name('ix', repeat('t', 40), ARRAY[repeat('c', 30) || 'a'])
       <> migr.name('ix', repeat('t', 40), ARRAY[repeat('c', 30) || 'b']) AS distinct_suffixes;
SELECT migr.name('ix', 'users', ARRAY[repeat('c', 63 - length('ix_users_'))]) AS exactly_63,
       octet_length(migr.name('ix', 'users', ARRAY[repeat('c', 63 - length('ix_users_'))])) AS len_63;
SELECT migr.name('ix', 'users', ARRAY[repeat('c', 64 - length('ix_users_'))]) AS cut_64,
       octet_length(migr.name('ix', 'users', ARRAY[repeat('c', 64 - length('ix_users_'))])) AS len_64_cut;
-- multibyte names are cut at a character boundary: the 54 bytes kept before
-- "_" and the hash end inside a character, so one byte less is kept
-- ("ix_table_" is 9 bytes, then 22 two-byte "é" fill 53, the 23rd would
-- end at 55; "ix_tbl_" is 7 bytes, then 15 three-byte "€" fill 52, the
-- 16th would end at 55; "ix_", 12 four-byte characters and "_" fill 52,
-- the next character would end at 56)
SELECT n, octet_length(n) AS bytes,
       n = 'ix_table_' || repeat('é', 22) || '_' ||
           left(encode(sha256(convert_to('ix_table_' || repeat('é', 30), 'UTF8')), 'hex'), 8) AS as_specified
  FROM (SELECT migr.name('ix', 'table', ARRAY[repeat('é', 30)]) AS n) x;
SELECT n, octet_length(n) AS bytes,
       n = 'ix_tbl_' || repeat('€', 15) || '_' ||
           left(encode(sha256(convert_to('ix_tbl_' || repeat('€', 20), 'UTF8')), 'hex'), 8) AS as_specified
  FROM (SELECT migr.name('ix', 'tbl', ARRAY[repeat('€', 20)]) AS n) x;
SELECT n, octet_length(n) AS bytes,
       n = 'ix_' || repeat('😀', 12) || '__' ||
           left(encode(sha256(convert_to('ix_' || repeat('😀', 12) || '_' || repeat('😀', 10), 'UTF8')), 'hex'), 8) AS as_specified
  FROM (SELECT migr.name('ix', repeat('😀', 12), ARRAY[repeat('😀', 10)]) AS n) x;
-- a table or column name of 64 bytes or more names what PostgreSQL stores:
-- its first 63 bytes (here 31 two-byte characters), as the operations use it
SET client_min_messages = notice;
SELECT migr.name('ix', repeat('t', 64), ARRAY[repeat('é', 40)])
       = migr.name('ix', repeat('t', 63), ARRAY[repeat('é', 31)]) AS same_as_truncated;
RESET client_min_messages;
-- the operations use the same names
CREATE TABLE users (id int, email text);
SELECT migr.create_index('users', ARRAY['email']) IS NOT NULL AS created,
       migr.has_index('users', migr.name('ix', 'users', ARRAY['email'])) AS found_by_name;
DROP TABLE users;
-- bad input
SELECT migr.name('zz', 'users', ARRAY['a']);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.name('ix', 'users');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.name('fk', 'users', ARRAY['a']);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.name('ix', NULL, ARRAY['a']);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.name('ix', 'users', ARRAY['']);
\echo :LAST_ERROR_SQLSTATE
