-- bytes survive: "quotes", $$, ünïcødé
-- Revision ID: ld_bytes
-- Revises:  add_security_fields  
-- Create Date: 2024-01-01 00:00:00.5
--
-- Branch Labels: ld_label

-- comments before the first marker are not stored

-- migr:upgrade


CREATE FUNCTION ld_f() RETURNS text LANGUAGE sql AS $$
-- migr:downgrade
SELECT 'it''s -- migr:nothing'::text
$$;
CREATE FUNCTION ld_g() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
	RETURN E'a\\b\'c -- migr:verify' || $x$	$x$;  
END
$body$;
/* a comment
-- migr:verify
/* nested */ still the comment */
SELECT "odd ""name"" -- migr:x" FROM (SELECT 'crhere' AS x) s;  


-- migr:downgrade
DROP FUNCTION ld_g();
DROP FUNCTION ld_f();