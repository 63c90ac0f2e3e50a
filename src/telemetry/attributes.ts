import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';

/**
 * Span attribute names, all of them here: searchable in Jaeger, and read back by the metrics and the Postgres
 * sink. Our own (`webhook.*`, `signal.*`, `trading.*`, `execution.*`) are written out; the HTTP, URL, client and
 * error ones come from the OpenTelemetry semantic conventions package (stable attributes only).
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
  signalRetry: 'signal.retry', // the run of a signal: 0 the webhook's, 1.. an operator's retries
  retryResult: 'signal.retry_result', // queued | declined
  ticker: 'trading.ticker',
  exchange: 'trading.exchange',
  action: 'trading.action',
  strategy: 'trading.strategy',
  decision: 'trading.decision',
  executor: 'execution.executor',
  executionOutcome: 'execution.outcome',
  attempt: 'execution.attempt',
  httpMethod: ATTR_HTTP_REQUEST_METHOD,
  httpRoute: ATTR_HTTP_ROUTE,
  httpStatus: ATTR_HTTP_RESPONSE_STATUS_CODE,
  urlPath: ATTR_URL_PATH,
  clientAddress: ATTR_CLIENT_ADDRESS,
  userAgent: ATTR_USER_AGENT_ORIGINAL,
  errorType: ATTR_ERROR_TYPE,
} as const;
