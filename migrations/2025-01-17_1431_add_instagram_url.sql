-- Add an optional Instagram URL to each business (nullable, so no table rewrite and no lock wait).
ALTER TABLE tenants.business ADD COLUMN instagram_url text;

-- ROLLBACK:
-- ALTER TABLE tenants.business DROP COLUMN instagram_url;
