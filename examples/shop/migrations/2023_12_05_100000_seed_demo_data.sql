-- seed demo data
--
-- Revision ID: seed_demo_data
-- Revises: create_orders
-- Create Date: 2023-12-05 10:00:00.000000

-- Demo only: 1,000 users with 20 orders each, so that the example's data
-- migration (backfill_orders_total_cents) has real work to do. A real
-- project loads its data elsewhere. The rows are recognisable by their
-- e-mail domain, shop.example: the downgrade deletes those and nothing
-- else, and a database that has users already is never seeded.

-- migr:skip_if
EXISTS (SELECT FROM public.users)

-- migr:verify
EXISTS (SELECT FROM public.users)

-- migr:upgrade
INSERT INTO public.users (username, email, created_at)
SELECT 'user' || g, 'user' || g || '@shop.example',
       timestamptz '2023-06-01 00:00+00' + g * interval '3 hours'
  FROM generate_series(1, 1000) AS g;

INSERT INTO public.orders (user_id, status, total, created_at)
SELECT u.id,
       (ARRAY['shipped', 'shipped', 'shipped', 'shipped', 'shipped', 'shipped',
              'paid', 'paid', 'new', 'cancelled'])[1 + (u.id * 7 + n * 13) % 10],
       (u.id * 37 + n * 101) % 50000 / 100.0 + 1,
       u.created_at + n * interval '1 day'
  FROM public.users AS u
 CROSS JOIN generate_series(1, 20) AS n
 WHERE u.email LIKE '%@shop.example';

-- migr:downgrade
-- ON DELETE CASCADE takes their orders with them
DELETE FROM public.users WHERE email LIKE '%@shop.example';

-- migr:verify_down
NOT EXISTS (SELECT FROM public.users WHERE email LIKE '%@shop.example')
