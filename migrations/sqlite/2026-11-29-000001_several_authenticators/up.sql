-- Several authenticators per user (up to 5 active), each with a label. A pending one
-- either replaces the user's others when confirmed ("Replace secret", first enrolment)
-- or is added beside them ("Add an authenticator").
ALTER TABLE totp_credentials ADD COLUMN label TEXT NOT NULL DEFAULT 'Authenticator app';
ALTER TABLE totp_credentials ADD COLUMN replaces_others BOOLEAN NOT NULL DEFAULT TRUE;
