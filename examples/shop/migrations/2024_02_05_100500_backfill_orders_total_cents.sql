-- backfill orders total_cents
--
-- Revision ID: backfill_orders_total_cents
-- Revises: add_orders_total_cents
-- Create Date: 2024-02-05 10:05:00.000000
-- Transactional: false

-- A data migration in batches: CALL migr.batch_update() walks orders by its
-- primary key and commits each batch, so application writes wait at most
-- for one batch, and a run that fails or is cancelled resumes after its
-- last batch. Batches commit only because the revision is
-- non-transactional (the Transactional field above) and the procedure is
-- named with its schema. where_clause skips the rows already done, so a
-- second run does no harm, and skip_if skips the revision when no row is
-- left to fill.

-- migr:skip_if
migr.has_column('public.orders', 'total_cents')
  AND NOT EXISTS (SELECT FROM public.orders WHERE total_cents IS NULL)

-- migr:requires
migr.has_column('public.orders', 'total_cents')

-- migr:verify
NOT EXISTS (SELECT FROM public.orders WHERE total_cents IS NULL)

-- migr:upgrade
CALL migr.batch_update('public.orders', 'total_cents = round(total * 100)',
                       where_clause => 'total_cents IS NULL');

-- migr:downgrade
CALL migr.batch_update('public.orders', 'total_cents = NULL',
                       where_clause => 'total_cents IS NOT NULL');

-- migr:verify_down
NOT EXISTS (SELECT FROM public.orders WHERE total_cents IS NOT NULL)
