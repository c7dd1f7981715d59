-- The whole Watchword data model. Times are Unix seconds (BIGINT) so that one
-- diesel schema serves PostgreSQL and SQLite alike; ids are random text made
-- by the application, so no backend-specific sequences or RETURNING are needed.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    totp_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    enforce_internal BOOLEAN NOT NULL DEFAULT FALSE,
    enforce_external BOOLEAN NOT NULL DEFAULT FALSE,
    prompt_new_users BOOLEAN NOT NULL DEFAULT TRUE,
    totp_algorithm TEXT NOT NULL DEFAULT 'SHA1' CHECK (totp_algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    totp_digits INTEGER NOT NULL DEFAULT 6 CHECK (totp_digits BETWEEN 6 AND 8),
    totp_period INTEGER NOT NULL DEFAULT 30 CHECK (totp_period IN (30, 60)),
    totp_skew INTEGER NOT NULL DEFAULT 1 CHECK (totp_skew BETWEEN 0 AND 2),
    recovery_codes_allowed BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    parent_id TEXT REFERENCES users (id) ON DELETE RESTRICT,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL,
    email TEXT,
    display_name TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('internal', 'external')),
    password_hash TEXT NOT NULL,
    totp_required BOOLEAN NOT NULL DEFAULT FALSE,
    permission TEXT NOT NULL CHECK (permission IN ('none', 'read', 'create', 'admin')),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login_at BIGINT,
    UNIQUE (tenant_id, username_key)
);
CREATE INDEX users_parent ON users (parent_id);

CREATE TABLE totp_credentials (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_ciphertext BYTEA NOT NULL,
    key_id TEXT NOT NULL,
    algorithm TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    digits INTEGER NOT NULL CHECK (digits BETWEEN 6 AND 8),
    period INTEGER NOT NULL CHECK (period IN (30, 60)),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active')),
    last_used_step BIGINT,
    created_at BIGINT NOT NULL,
    activated_at BIGINT
);
CREATE INDEX totp_credentials_user ON totp_credentials (user_id);

CREATE TABLE recovery_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    require_mfa BOOLEAN NOT NULL DEFAULT FALSE,
    trusted BOOLEAN NOT NULL DEFAULT FALSE,
    id_token_alg TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    allow_refresh BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX clients_tenant ON clients (tenant_id);

CREATE TABLE sso_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amr TEXT NOT NULL,
    acr TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sso_sessions_user ON sso_sessions (user_id);

CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES sso_sessions (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT REFERENCES sso_sessions (id) ON DELETE SET NULL,
    auth_code_hash TEXT,
    scope TEXT NOT NULL,
    offline BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL CHECK (algorithm IN ('RS256', 'ES256', 'EdDSA')),
    private_ciphertext BYTEA NOT NULL,
    key_id TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('next', 'active', 'retired')),
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at BIGINT
);

CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    actor_user_id TEXT,
    target_user_id TEXT,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    ip TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, created_at);
