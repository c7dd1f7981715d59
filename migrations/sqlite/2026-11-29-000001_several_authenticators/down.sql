ALTER TABLE totp_credentials DROP COLUMN replaces_others;
ALTER TABLE totp_credentials DROP COLUMN label;
