-- Up Migration
-- What TradingView never sent (issue 15). Each strategy alert can say which position came before its order
-- ({{strategy.prev_market_position}}, {{strategy.prev_market_position_size}}); when that differs from the
-- position the previous alert of the same strategy and ticker left, an alert in between never arrived.
ALTER TABLE signals ADD COLUMN prev_market_position text, ADD COLUMN prev_position_size numeric;

-- Gaps found by the periodic detection (src/monitoring/detectPositionGaps.ts), never on the request path.
-- A gap is the pair (before, after) of consecutive alerts whose positions disagree; an alert that arrives
-- late and fills it changes the chain, and the pair is then closed (closed_at).
CREATE TABLE position_gaps (
  before_signal_id     uuid NOT NULL,
  after_signal_id      uuid NOT NULL,
  -- '' when the alerts name no strategy: they form one chain per ticker.
  strategy             text NOT NULL,
  ticker               text NOT NULL,
  -- What we last received: the position the earlier alert left.
  last_position        text,
  last_position_size   numeric,
  -- What the later alert says came before it.
  prev_position        text,
  prev_position_size   numeric,
  -- The window in which the missing alert(s) fired (alert time, or receipt time when the alert has none).
  window_start         timestamptz NOT NULL,
  window_end           timestamptz NOT NULL,
  detected_at          timestamptz NOT NULL DEFAULT now(),
  closed_at            timestamptz,
  PRIMARY KEY (before_signal_id, after_signal_id)
);
CREATE INDEX position_gaps_open ON position_gaps (window_end DESC) WHERE closed_at IS NULL;
CREATE INDEX position_gaps_window_end ON position_gaps (window_end DESC);

-- Per strategy: when it last sent an alert and its usual interval (the median gap between its alerts over
-- the learning window), refreshed by the same periodic job; /metrics reads it at scrape time.
CREATE TABLE strategy_activity (
  strategy                 text PRIMARY KEY,
  last_signal_at           timestamptz NOT NULL,
  usual_interval_seconds   double precision,
  intervals                integer NOT NULL,
  refreshed_at             timestamptz NOT NULL DEFAULT now()
);

-- Grafana's read-only role reads both (no sender text beyond strategy names and tickers, which signals holds too).
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    GRANT SELECT ON position_gaps, strategy_activity TO grafana_reader;
  END IF;
END
$$;

-- Down Migration
DROP TABLE strategy_activity;
DROP TABLE position_gaps;
ALTER TABLE signals DROP COLUMN prev_position_size, DROP COLUMN prev_market_position;
