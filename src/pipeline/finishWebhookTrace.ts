import type { AcceptedAnswer } from '../domain/types.js';
import { ATTR } from '../telemetry/attributes.js';
import type { RecordExtras } from '../telemetry/recordExtras.js';
import type { WebhookTrace } from '../telemetry/webhookTrace.js';
import { REJECTION_CODES, type WebhookError } from '../domain/errors.js';
import { redactHeaders } from './redactHeaders.js';

/**
 * Ends a webhook's trace with its answer: success, or rejected/failed with the error's code and message.
 * The trace's end feeds the metrics and the monitoring record.
 */
export function finishWebhookTrace(
  trace: WebhookTrace,
  result: { httpStatus: number; answer?: AcceptedAnswer; error?: WebhookError; headers: Record<string, string | string[] | undefined>; extras: RecordExtras },
): void {
  const { error, extras } = result;
  // Only the record keeps headers: unmonitored, no copy is made (1-2 µs a webhook of the pipeline's CPU).
  if (trace.isRecording) extras.headers = redactHeaders(result.headers);
  if (!error) {
    trace.finish({ status: 'success', httpStatus: result.httpStatus, outcome: result.answer?.status, rejection: false, extras });
    return;
  }
  const rejection = REJECTION_CODES.has(error.code);
  if (error.code === 'WH_ERR_AUTH_INVALID') trace.attributes({ [ATTR.authValid]: false });
  if (error.code === 'WH_ERR_INTERNAL') extras.errorStack = (error.cause as Error | undefined)?.stack;
  trace.attributes({ [ATTR.errorMessage]: error.message });
  trace.finish({
    status: rejection ? 'rejected' : 'failed',
    httpStatus: result.httpStatus,
    errorCode: error.code,
    errorMessage: error.message,
    rejection,
    extras,
  });
}
