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
-- multibyte names are cut at a character boundary
SELECT octet_length(n) <= 63 AS fits, n IS NOT NULL AS valid_text
  FROM (SELECT migr.name('ix', 'täble', ARRAY[repeat('é', 40)]) AS n) x;
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
