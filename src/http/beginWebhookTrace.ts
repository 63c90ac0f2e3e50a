import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { ATTR } from '../telemetry/attributes.js';
import { extractParent, WebhookTrace, type WebhookTracing } from '../telemetry/webhookTrace.js';

export const WEBHOOK_PATH = '/api/webhooks/tradingview';

const POST_SPAN_NAME = `POST ${WEBHOOK_PATH}`;

/**
 * A webhook's trace from its first moment (which becomes its record, metrics and spans), the same whether the
 * webhook goes through the route or is refused before routing (refuseBeforeRouting).
 */
export function beginWebhookTrace(
  tracing: WebhookTracing,
  request: { id: string; method: string; headers: IncomingHttpHeaders; ip: string | undefined; startMs: number },
): WebhookTrace {
  const trace = new WebhookTrace(tracing, {
    name: request.method === 'POST' ? POST_SPAN_NAME : `${request.method} ${WEBHOOK_PATH}`,
    webhookId: request.id,
    // With monitoring off the trace records nothing, its parent included.
    parent: tracing.recording ? extractParent(request.headers) : ROOT_CONTEXT,
    startTime: request.startMs,
    attributes: {
      [ATTR.httpMethod]: request.method,
      [ATTR.httpRoute]: WEBHOOK_PATH,
      [ATTR.urlPath]: WEBHOOK_PATH,
      [ATTR.clientAddress]: request.ip,
      [ATTR.userAgent]: request.headers['user-agent'],
    },
  });
  trace.begin('received', request.startMs);
  return trace;
}
