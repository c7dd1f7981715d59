ALTER TABLE clients DROP COLUMN client_scopes;
