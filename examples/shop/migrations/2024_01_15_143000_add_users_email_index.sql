-- add users email index
--
-- Revision ID: add_users_email_index
-- Revises: add_security_fields
-- Create Date: 2024-01-15 14:30:00.000000

-- The other branch: logins look users up by e-mail, whatever its case,
-- and no two users may share an address.

-- migr:skip_if
migr.has_index('public.users', 'ix_users_email_lower')

-- migr:verify
migr.index_columns('public.users', 'ix_users_email_lower') = ARRAY['lower(email::text)']

-- migr:upgrade
CREATE UNIQUE INDEX ix_users_email_lower ON public.users (lower(email));

-- migr:downgrade
DROP INDEX public.ix_users_email_lower;

-- migr:verify_down
NOT migr.has_index('public.users', 'ix_users_email_lower')
