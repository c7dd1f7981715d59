DROP INDEX totp_credentials_one_pending;
ALTER TABLE tenants DROP COLUMN password_min_length;
ALTER TABLE users DROP COLUMN password_temporary;
