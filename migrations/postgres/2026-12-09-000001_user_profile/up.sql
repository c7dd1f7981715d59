-- The standard profile claims a user can hold (OpenID Connect Core §5.1), edited on
-- /account by the user and by its parents: released with the `profile`, `phone` and
-- `address` scopes or by the `claims` parameter. `address` is the claim's JSON object
-- (street_address, locality, region, postal_code, country); `profile_updated_at` is the
-- `updated_at` claim: when any of these, the name or the e-mail address last changed.
ALTER TABLE users ADD COLUMN given_name TEXT;
ALTER TABLE users ADD COLUMN family_name TEXT;
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN zoneinfo TEXT;
ALTER TABLE users ADD COLUMN phone_number TEXT;
ALTER TABLE users ADD COLUMN address TEXT;
ALTER TABLE users ADD COLUMN profile_updated_at BIGINT;
