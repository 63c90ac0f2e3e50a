-- Up Migration
-- What a record keeps is bounded (a rejected request keeps the first KiB of its payload, any request at most
-- 64 KiB, nesting at most 16 levels, no character Postgres refuses). These columns say what was cut:
-- payload_sha256 is the SHA-256 of the whole payload's JSON as received minus its secret fields (for a body
-- that could not be parsed, of the redacted text kept), and truncation names each cut field with its reasons
-- (size, depth, text) and limits; NULL when the record is whole.
ALTER TABLE webhook_requests
  ADD COLUMN payload_sha256 text,
  ADD COLUMN truncation jsonb;

-- Down Migration
ALTER TABLE webhook_requests
  DROP COLUMN truncation,
  DROP COLUMN payload_sha256;
