ALTER TABLE users DROP COLUMN totp_locked_until;
ALTER TABLE refresh_tokens DROP COLUMN parent_hash;
ALTER TABLE refresh_tokens DROP COLUMN issued_by;
ALTER TABLE clients DROP COLUMN access_token_alg;
