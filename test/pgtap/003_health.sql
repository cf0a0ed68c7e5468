-- pgTAP: check(), fingerprints and the stairway test.
BEGIN;
SET client_min_messages = warning;
SELECT plan(12);

SELECT migr.revision('h1', NULL, 'users', 'CREATE TABLE users (id int PRIMARY KEY);', 'DROP TABLE users;',
                     create_date => '2024-01-01');
SELECT migr.revision('h2', 'h1', 'orders', 'CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));',
                     'DROP TABLE orders;', create_date => '2024-01-02');

SELECT set_eq($$SELECT code FROM migr.check() WHERE severity = 'error'$$, ARRAY['pending'],
              'unapplied revisions are pending');
SELECT throws_ok($$SELECT * FROM migr.check(strict => true)$$, 'MG006', NULL,
                 'strict check raises MG006');
SELECT results_eq($$SELECT status FROM migr.test_reversibility()$$, ARRAY['pass', 'pass'],
                  'both revisions are reversible');
SELECT hasnt_table('users', 'the stairway test left nothing behind');
SELECT lives_ok($$SELECT * FROM migr.upgrade()$$, 'upgrade');
SELECT is((SELECT fingerprint FROM migr.snapshot), migr.fingerprint(),
          'the recorded fingerprint is the schema''s');
SELECT set_eq($$SELECT code FROM migr.check()$$, ARRAY['unindexed_foreign_key'],
              'only the missing foreign key index is reported');
SELECT lives_ok($$SELECT count(*) FROM migr.check(strict => true)$$, 'a warning does not fail strict');
SELECT migr.create_index('orders', ARRAY['user_id']);
SELECT set_eq($$SELECT code FROM migr.check()$$, ARRAY['schema_drift'],
              'an index added outside migr is drift');
SELECT isnt(migr.fingerprint(), (SELECT fingerprint FROM migr.snapshot), 'the fingerprint moved');
SELECT migr.drop_index('orders', 'ix_orders_user_id');
SELECT is_empty($$SELECT * FROM migr.check() WHERE code = 'schema_drift'$$, 'dropping it again ends the drift');
SELECT is(migr.fingerprint(), (SELECT fingerprint FROM migr.snapshot), 'and the fingerprint is back');

SELECT * FROM finish();
ROLLBACK;
