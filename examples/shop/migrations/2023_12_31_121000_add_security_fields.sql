-- add security fields
--
-- Revision ID: add_security_fields
-- Revises: rename_username_to_name
-- Create Date: 2023-12-31 12:10:00.000000

-- failed_logins is NOT NULL with a server default, so existing rows get 0
-- and the application's INSERTs need not name it. Since PostgreSQL 11 a
-- constant default does not rewrite the table.

-- migr:skip_if
migr.has_column('public.users', 'failed_logins')
  AND migr.has_column('public.users', 'locked_until')

-- migr:verify
migr.column_type_is('public.users', 'failed_logins', 'integer')
  AND NOT migr.column_is_nullable('public.users', 'failed_logins')
  AND migr.column_default('public.users', 'failed_logins') = '0'
  AND migr.column_type_is('public.users', 'locked_until', 'timestamptz')

-- migr:upgrade
ALTER TABLE public.users
    ADD COLUMN failed_logins integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until timestamptz;

-- migr:downgrade
ALTER TABLE public.users
    DROP COLUMN locked_until,
    DROP COLUMN failed_logins;

-- migr:verify_down
NOT migr.has_column('public.users', 'failed_logins')
  AND NOT migr.has_column('public.users', 'locked_until')
