ALTER TABLE sso_sessions DROP COLUMN last_seen_at;
ALTER TABLE sso_sessions DROP COLUMN ip;
ALTER TABLE sso_sessions DROP COLUMN label;
