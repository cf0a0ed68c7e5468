-- A tour of migr on a throwaway cluster (scripts/demo.sh runs it).
CREATE EXTENSION migr;
SELECT migr.revision('0001_users', NULL, 'create users',
    'CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);',
    'DROP TABLE users;');
SELECT migr.revision('0002_user_name', '0001_users', 'add users.name',
    'ALTER TABLE users ADD COLUMN name text;',
    'ALTER TABLE users DROP COLUMN name;',
    skip_if => $$migr.has_column('users', 'name')$$,
    verify  => $$migr.column_type_is('users', 'name', 'text')$$);
SELECT migr.revision('0003_email_index', '0002_user_name', 'index users.email',
    $$SELECT migr.create_index('users', ARRAY['email'], "unique" => true);$$,
    $$SELECT migr.drop_index('users', 'ix_users_email');$$,
    verify => $$migr.has_index_on('users', ARRAY['email'])$$);
\echo '--- plan, then upgrade to head'
SELECT * FROM migr.plan();
SELECT revision, operation FROM migr.upgrade();
\d users
\echo '--- where are we?'
SELECT * FROM migr.current();
SELECT ordinal, revision, message, applied, is_current FROM migr.history();
\echo '--- one step down'
SELECT revision, operation FROM migr.downgrade('-1');
SELECT * FROM migr.current();
\echo '--- and back up; running it twice is a no-op'
SELECT revision, operation FROM migr.upgrade();
SELECT count(*) AS steps_second_time FROM migr.upgrade();
SELECT revision, operation, heads_before, heads_after FROM migr.event ORDER BY id;
