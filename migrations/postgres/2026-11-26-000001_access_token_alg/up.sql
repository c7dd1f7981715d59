-- Per-client access-token signing algorithm (issue: fast token crypto where the client allows it).
ALTER TABLE clients ADD COLUMN access_token_alg TEXT NOT NULL DEFAULT 'RS256';
