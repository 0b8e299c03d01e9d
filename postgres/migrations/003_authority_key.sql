-- Disclosure packages are encrypted to the authority's public key (age X25519).
ALTER TABLE authorities ADD COLUMN age_recipient TEXT NOT NULL DEFAULT '';
