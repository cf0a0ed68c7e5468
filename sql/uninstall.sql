-- uninstall: dropping the extension removes everything it created
DROP EXTENSION migr;
SELECT count(*) FROM pg_namespace WHERE nspname = 'migr';
