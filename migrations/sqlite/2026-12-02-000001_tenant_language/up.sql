-- The language of the tenant's pages for a visitor whose browser asks for none the
-- pages have (after the switcher, the client's ui_locales and Accept-Language).
ALTER TABLE tenants ADD COLUMN default_language TEXT;
