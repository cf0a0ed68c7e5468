-- add orders status check
--
-- Revision ID: add_orders_status_check
-- Revises: add_security_fields
-- Create Date: 2024-01-15 10:00:00.000000

-- Written on a branch at the same time as add_users_email_index: both
-- revise add_security_fields, so the graph has two heads until
-- merge_status_check_and_email_index joins them.

-- migr:skip_if
migr.has_constraint('public.orders', 'ck_orders_status')

-- migr:verify
migr.has_constraint('public.orders', 'ck_orders_status')

-- migr:upgrade
ALTER TABLE public.orders
    ADD CONSTRAINT ck_orders_status
    CHECK (status IN ('new', 'paid', 'shipped', 'cancelled'));

-- migr:downgrade
ALTER TABLE public.orders DROP CONSTRAINT ck_orders_status;

-- migr:verify_down
NOT migr.has_constraint('public.orders', 'ck_orders_status')
