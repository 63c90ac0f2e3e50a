/**
 * Span attribute names: searchable in Jaeger, and read back by the metrics and the Postgres sink.
 * HTTP ones follow the OpenTelemetry semantic conventions.
 */
export const ATTR = {
  record: 'webhook.record', // 'request' on a webhook's root span, 'stage' on its stage spans
  webhookId: 'webhook.id',
  stage: 'webhook.stage',
  status: 'webhook.status',
  outcome: 'webhook.outcome',
  errorCode: 'webhook.error_code',
  errorMessage: 'webhook.error_message',
  rejectionCode: 'webhook.rejection_code',
  declineReason: 'webhook.decline_reason',
  payloadSize: 'webhook.payload_size',
  authScheme: 'webhook.auth_scheme',
  authValid: 'webhook.auth_valid',
  deliveryLagMs: 'webhook.delivery_lag_ms',
  replayOf: 'webhook.replay_of',
  signalId: 'signal.id',
  ticker: 'trading.ticker',
  exchange: 'trading.exchange',
  action: 'trading.action',
  strategy: 'trading.strategy',
  decision: 'trading.decision',
  executor: 'execution.executor',
  executionOutcome: 'execution.outcome',
  attempt: 'execution.attempt',
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
  urlPath: 'url.path',
  clientAddress: 'client.address',
  userAgent: 'user_agent.original',
  errorType: 'error.type',
} as const;
