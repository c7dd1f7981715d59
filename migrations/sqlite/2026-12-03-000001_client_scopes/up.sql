-- The scopes a client may ask for in a client_credentials grant (space-separated);
-- none by default: any other scope is refused with invalid_scope.
ALTER TABLE clients ADD COLUMN client_scopes TEXT NOT NULL DEFAULT '';
