-- Up Migration
-- One row per webhook (the seed's WebhookRequest), written asynchronously from the request's root span.
CREATE TABLE webhook_requests (
  id                 uuid PRIMARY KEY,
  created_at         timestamptz NOT NULL,
  source_ip          text,
  user_agent         text,
  headers            jsonb NOT NULL DEFAULT '{}'::jsonb,
  payload            jsonb,
  payload_size       integer NOT NULL DEFAULT 0,
  -- How the sender authenticated: body-secret | query-token | standard-webhooks (never the secret itself).
  signature          text,
  signature_valid    boolean,
  processing_time_ms double precision NOT NULL,
  status             text NOT NULL CHECK (status IN ('success', 'failed', 'rejected')),
  http_status        integer NOT NULL,
  error_code         text,
  error_message      text,
  error_stack        text,
  signal_id          uuid,
  outcome            text,
  decline_reason     text,
  ticker             text,
  action             text,
  strategy           text,
  trace_id           text,
  replay_of          uuid
);
CREATE INDEX webhook_requests_created_at ON webhook_requests (created_at);
CREATE INDEX webhook_requests_status_created_at ON webhook_requests (status, created_at);
CREATE INDEX webhook_requests_error_code_created_at ON webhook_requests (error_code, created_at) WHERE error_code IS NOT NULL;
CREATE INDEX webhook_requests_ticker_id ON webhook_requests (ticker, id DESC);

-- One row per stage of a webhook (the seed's ProcessingStage), from the stage's span.
CREATE TABLE processing_stages (
  id            uuid PRIMARY KEY,
  created_at    timestamptz NOT NULL,
  webhook_id    uuid NOT NULL,
  stage         text NOT NULL CHECK (stage IN ('received', 'enriching', 'deciding', 'executing', 'completed', 'failed')),
  started_at    timestamptz NOT NULL,
  completed_at  timestamptz,
  duration_ms   double precision,
  status        text NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed')),
  error_message text,
  metadata      jsonb,
  trace_id      text,
  span_id       text
);
CREATE INDEX processing_stages_webhook_id ON processing_stages (webhook_id);
CREATE INDEX processing_stages_stage_created_at ON processing_stages (stage, created_at);
CREATE INDEX processing_stages_created_at ON processing_stages (created_at);

-- Down Migration
DROP TABLE processing_stages;
DROP TABLE webhook_requests;
