ALTER TABLE refresh_tokens DROP COLUMN claims;
ALTER TABLE authorization_codes DROP COLUMN claims;
