-- DPoP (RFC 9449): the thumbprint of the key a public client's refresh token is bound
-- to; a refresh must come with a proof by that key.
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT;
