-- add security fields
--
-- Revision ID: add_security_fields
-- Revises: rename_username_to_name
-- Create Date: 2023-12-31 12:10:00.000000

-- migr:skip_if
migr.has_column('public', 'users', 'failed_logins')

-- migr:verify
migr.has_column('public', 'users', 'failed_logins')
  AND migr.has_column('public', 'users', 'locked_until')

-- migr:upgrade
ALTER TABLE public.users
    ADD COLUMN failed_logins integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until timestamptz;
CREATE FUNCTION f() RETURNS text AS $body$
-- migr:downgrade
SELECT 'x'
$body$ LANGUAGE sql;
SELECT E'it\'s -- migr:nope', 'a''b', "we""ird" /* nested /* x */
-- migr:bad
*/;

-- migr:downgrade
ALTER TABLE public.users
    DROP COLUMN locked_until,
    DROP COLUMN failed_logins;
