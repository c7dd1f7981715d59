-- The user claims an authorization request asked for with the `claims` parameter
-- (OpenID Connect Core §5.5), as JSON ({"id_token": [...], "userinfo": [...]}): kept with
-- the code and with the refresh tokens of the grant, so that every ID token and access
-- token of the grant releases them.
ALTER TABLE authorization_codes ADD COLUMN claims TEXT;
ALTER TABLE refresh_tokens ADD COLUMN claims TEXT;
