-- add orders total_cents
--
-- Revision ID: add_orders_total_cents
-- Revises: add_orders_created_at_index
-- Create Date: 2024-02-05 10:00:00.000000

-- Amounts move from numeric to integer cents in three steps, so that no
-- step holds a lock on orders for long: add the column (nullable, no
-- default: a catalog change only), fill it in batches
-- (backfill_orders_total_cents), then make it NOT NULL
-- (require_orders_total_cents).

-- migr:skip_if
migr.has_column('public.orders', 'total_cents')

-- migr:verify
migr.column_type_is('public.orders', 'total_cents', 'bigint')

-- migr:upgrade
ALTER TABLE public.orders ADD COLUMN total_cents bigint;

-- migr:downgrade
ALTER TABLE public.orders DROP COLUMN total_cents;

-- migr:verify_down
NOT migr.has_column('public.orders', 'total_cents')
