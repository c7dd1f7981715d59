ALTER TABLE tenants DROP COLUMN primary_colour;
ALTER TABLE tenants DROP COLUMN logo_url;
