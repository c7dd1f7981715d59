ALTER TABLE users DROP COLUMN profile_updated_at;
ALTER TABLE users DROP COLUMN address;
ALTER TABLE users DROP COLUMN phone_number;
ALTER TABLE users DROP COLUMN zoneinfo;
ALTER TABLE users DROP COLUMN locale;
ALTER TABLE users DROP COLUMN family_name;
ALTER TABLE users DROP COLUMN given_name;
