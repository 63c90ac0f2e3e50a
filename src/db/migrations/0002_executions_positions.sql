-- Up Migration
-- One execution per signal: the unique signal_id makes a job that runs twice record one execution, not two.
CREATE TABLE executions (
  id            uuid PRIMARY KEY,
  signal_id     uuid NOT NULL UNIQUE REFERENCES signals (id),
  executor      text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('filled', 'forwarded', 'failed')),
  ticker        text NOT NULL,
  action        text NOT NULL,
  quantity      numeric,
  price         numeric,
  -- The forward target's answer (status and a bounded body); null for paper fills.
  response      jsonb,
  error         text,
  attempt       integer NOT NULL,
  trace_id      text,
  started_at    timestamptz NOT NULL,
  completed_at  timestamptz NOT NULL,
  duration_ms   double precision NOT NULL
);
CREATE INDEX executions_ticker_id ON executions (ticker, id DESC);

-- Paper trading book: one row per symbol. A closed position stays, with quantity 0 and its realised PnL.
CREATE TABLE positions (
  ticker          text PRIMARY KEY,
  quantity        numeric NOT NULL DEFAULT 0,
  average_price   numeric NOT NULL DEFAULT 0,
  realized_pnl    numeric NOT NULL DEFAULT 0,
  last_signal_id  uuid,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE positions;
DROP TABLE executions;
