-- A rotated secret stays valid until previous_secret_until (the grace period), so that
-- a client's instances can change over without an outage.
ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE clients ADD COLUMN previous_secret_until BIGINT;
