-- merge status check and email index
--
-- Revision ID: merge_status_check_and_email_index
-- Revises: add_users_email_index, add_orders_status_check
-- Create Date: 2024-01-16 09:00:00.000000

-- migr:upgrade
-- nothing to run: merge of add_orders_status_check and add_users_email_index

-- migr:downgrade
-- nothing to run: merge
