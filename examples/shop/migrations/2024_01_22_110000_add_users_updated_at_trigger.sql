-- add users updated_at trigger
--
-- Revision ID: add_users_updated_at_trigger
-- Revises: merge_status_check_and_email_index
-- Create Date: 2024-01-22 11:00:00.000000

-- users.updated_at, kept current by a trigger: every UPDATE of a user
-- stamps it, unless the UPDATE sets updated_at itself.

-- migr:skip_if
migr.has_column('public.users', 'updated_at')
  AND migr.has_function('public.users_set_updated_at', '{}')
  AND EXISTS (SELECT FROM pg_catalog.pg_trigger
               WHERE tgrelid = 'public.users'::regclass
                 AND tgname = 'trg_users_set_updated_at')

-- migr:verify
migr.has_column('public.users', 'updated_at')
  AND migr.has_function('public.users_set_updated_at', '{}')
  AND EXISTS (SELECT FROM pg_catalog.pg_trigger
               WHERE tgrelid = 'public.users'::regclass
                 AND tgname = 'trg_users_set_updated_at')

-- migr:upgrade
ALTER TABLE public.users
    ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();

CREATE OR REPLACE FUNCTION public.users_set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    -- an UPDATE that sets updated_at itself keeps its value
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := pg_catalog.now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER trg_users_set_updated_at
    BEFORE UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.users_set_updated_at();

-- migr:downgrade
DROP TRIGGER trg_users_set_updated_at ON public.users;
DROP FUNCTION public.users_set_updated_at();
ALTER TABLE public.users DROP COLUMN updated_at;

-- migr:verify_down
NOT migr.has_column('public.users', 'updated_at')
  AND NOT migr.has_function('public.users_set_updated_at')
