-- rename username to name
--
-- Revision ID: rename_username_to_name
-- Revises: seed_demo_data
-- Create Date: 2023-12-31 12:00:00.000000

-- The unique constraint is renamed too, so that its name keeps following
-- the naming convention (uq_<table>_<column>).

-- migr:skip_if
migr.has_column('public.users', 'name')
  AND NOT migr.has_column('public.users', 'username')

-- migr:requires
migr.has_column('public.users', 'username')

-- migr:verify
migr.has_column('public.users', 'name')
  AND NOT migr.has_column('public.users', 'username')
  AND migr.has_constraint('public.users', 'uq_users_name')

-- migr:upgrade
ALTER TABLE public.users RENAME COLUMN username TO name;
ALTER TABLE public.users RENAME CONSTRAINT uq_users_username TO uq_users_name;

-- migr:downgrade
ALTER TABLE public.users RENAME CONSTRAINT uq_users_name TO uq_users_username;
ALTER TABLE public.users RENAME COLUMN name TO username;

-- migr:verify_down
migr.has_column('public.users', 'username')
  AND NOT migr.has_column('public.users', 'name')
  AND migr.has_constraint('public.users', 'uq_users_username')
