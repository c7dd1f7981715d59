-- OpenID Connect Back-Channel Logout 1.0: where a client wants to hear that a session
-- ended, and whether it needs the session id (sid) in the logout token (always sent).
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT FALSE;

-- A client (with a back-channel logout URI) that got tokens in a session; its notice is
-- due once the session is revoked, and stays until delivered or given up.
CREATE TABLE backchannel_logouts (
    session_id TEXT NOT NULL REFERENCES sso_sessions (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    gave_up_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
CREATE INDEX backchannel_logouts_pending ON backchannel_logouts (next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
CREATE INDEX backchannel_logouts_client ON backchannel_logouts (client_id);
