-- What the account page shows of each signed-in browser: a label from its User-Agent,
-- the address it signed in from, and when it was last seen (updated at most every few
-- minutes, not on every request).
ALTER TABLE sso_sessions ADD COLUMN label TEXT NOT NULL DEFAULT 'Unknown browser';
ALTER TABLE sso_sessions ADD COLUMN ip TEXT;
ALTER TABLE sso_sessions ADD COLUMN last_seen_at BIGINT;
