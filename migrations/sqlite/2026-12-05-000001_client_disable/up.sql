-- A disabled client is refused everywhere (authorize, token, refresh, introspection,
-- userinfo) until it is enabled again; its refresh tokens were revoked when it was disabled.
ALTER TABLE clients ADD COLUMN disabled_at BIGINT;
