-- add orders created_at index
--
-- Revision ID: add_orders_created_at_index
-- Revises: add_users_updated_at_trigger
-- Create Date: 2024-02-01 09:30:00.000000

-- orders is large and busy: CREATE INDEX CONCURRENTLY builds the index
-- without blocking writes. It cannot run in a transaction, so this
-- revision is non-transactional (migr sees the statement when it registers
-- the file): `migr upgrade` runs it with CALL migr.apply(), which has a
-- background worker run it at top level. A build that fails or is
-- cancelled leaves an invalid index: migr.check() reports it
-- (invalid_index) with the DROP INDEX that clears it, and skip_if does not
-- count it as there.

-- migr:skip_if
migr.has_index('public.orders', 'ix_orders_created_at')

-- migr:verify
migr.has_index_on('public.orders', ARRAY['created_at'])

-- migr:upgrade
CREATE INDEX CONCURRENTLY ix_orders_created_at ON public.orders (created_at);

-- migr:downgrade
DROP INDEX CONCURRENTLY public.ix_orders_created_at;

-- migr:verify_down
NOT migr.has_index('public.orders', 'ix_orders_created_at')
