-- Branding: a logo (an https URL) and a primary colour (#rrggbb) shown on the tenant's
-- pages; the display name is the existing `name` column.
ALTER TABLE tenants ADD COLUMN logo_url TEXT;
ALTER TABLE tenants ADD COLUMN primary_colour TEXT;
