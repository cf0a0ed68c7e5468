-- merge
-- Revision ID: ld_merge
-- Revises: ld_irrev ,ld_side
-- Create Date: 2024-01-03 00:00:00
-- Transactional: false
-- Depends On: a, b

-- migr:upgrade
-- nothing to run: merge
-- migr:requires
migr.has_table('t')
-- migr:verify_down
NOT migr.has_table('t')
