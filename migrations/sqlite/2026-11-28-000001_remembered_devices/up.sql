-- Remember this device (off unless the tenant sets a number of days, 1–90): a browser
-- that entered a right code with "don't ask again" skips the code step until then.
ALTER TABLE tenants ADD COLUMN remember_device_days INTEGER;
-- A client may refuse remembered devices (its users always give a code), or count them
-- as multi-factor in `acr` (default: single-factor, as they are).
ALTER TABLE clients ADD COLUMN allow_remembered_devices BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE clients ADD COLUMN remembered_device_mfa BOOLEAN NOT NULL DEFAULT FALSE;
-- Only the SHA-256 of the cookie's random token is stored.
CREATE TABLE remembered_devices (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_ip TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    code_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices (user_id);
