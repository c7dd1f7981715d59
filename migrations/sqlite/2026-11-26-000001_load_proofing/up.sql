-- Per-client access-token signing algorithm (RS256 stays the default).
ALTER TABLE clients ADD COLUMN access_token_alg TEXT NOT NULL DEFAULT 'RS256';
-- Which server process issued a refresh token, and the token it replaced, so that a
-- rotation whose answer was lost in a crash can be told from a replay
-- (see oidc::grants::refresh::lost_rotation).
ALTER TABLE refresh_tokens ADD COLUMN issued_by TEXT;
ALTER TABLE refresh_tokens ADD COLUMN parent_hash TEXT;
-- A TOTP lock survives a Redis restarted empty (the attempt counter lives in Redis).
ALTER TABLE users ADD COLUMN totp_locked_until BIGINT;
