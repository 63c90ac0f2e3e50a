-- Up Migration
-- btree_gist lets the dedupe rule be one exclusion constraint: equal key AND overlapping time window.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE signals (
  id              uuid PRIMARY KEY,
  webhook_id      uuid NOT NULL,
  -- What makes two alerts "the same": 'id:<alert id>|<alert time>' or 'h:<hash of the normalised alert>'.
  dedupe_key      text NOT NULL,
  -- The alert counts as a duplicate of this signal while its receipt time is in [received_at, dedupe_until).
  dedupe_until    timestamptz NOT NULL,
  ticker          text NOT NULL,
  exchange        text,
  action          text NOT NULL CHECK (action IN ('buy', 'sell', 'close')),
  quantity        numeric CHECK (quantity IS NULL OR quantity >= 0),
  price           numeric CHECK (price IS NULL OR price >= 0),
  strategy        text,
  interval        text,
  alert_time      timestamptz,
  alert_id        text,
  order_id        text,
  market_position text,
  position_size   numeric,
  extra           jsonb NOT NULL DEFAULT '{}'::jsonb,
  status          text NOT NULL CHECK (status IN ('queued', 'executing', 'executed', 'failed', 'declined')),
  decline_reason  text,
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  trace_id        text,
  received_at     timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  executing_at    timestamptz,
  executed_at     timestamptz,
  failed_at       timestamptz,
  CONSTRAINT signals_dedupe EXCLUDE USING gist (dedupe_key WITH =, tstzrange(received_at, dedupe_until) WITH &&)
);

-- The signals API lists newest first, filtered by status and ticker; ids are UUIDv7, so id order is time order.
CREATE INDEX signals_ticker_id ON signals (ticker, id DESC);
CREATE INDEX signals_status_id ON signals (status, id DESC);
CREATE INDEX signals_webhook_id ON signals (webhook_id);

-- Down Migration
DROP TABLE signals;
