ALTER TABLE clients DROP COLUMN disabled_at;
