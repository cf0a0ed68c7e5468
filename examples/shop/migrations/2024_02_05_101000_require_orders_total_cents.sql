-- require orders total_cents
--
-- Revision ID: require_orders_total_cents
-- Revises: backfill_orders_total_cents
-- Create Date: 2024-02-05 10:10:00.000000

-- From this release on the application writes total_cents with every
-- order, so the column can be NOT NULL. SET NOT NULL scans the table once
-- under its lock; the backfill before it left nothing to fix.

-- migr:skip_if
migr.has_column('public.orders', 'total_cents')
  AND NOT migr.column_is_nullable('public.orders', 'total_cents')

-- migr:requires
NOT EXISTS (SELECT FROM public.orders WHERE total_cents IS NULL)

-- migr:verify
migr.has_column('public.orders', 'total_cents')
  AND NOT migr.column_is_nullable('public.orders', 'total_cents')

-- migr:upgrade
ALTER TABLE public.orders ALTER COLUMN total_cents SET NOT NULL;

-- migr:downgrade
ALTER TABLE public.orders ALTER COLUMN total_cents DROP NOT NULL;

-- migr:verify_down
migr.column_is_nullable('public.orders', 'total_cents')
