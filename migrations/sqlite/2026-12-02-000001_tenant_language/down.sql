ALTER TABLE tenants DROP COLUMN default_language;
