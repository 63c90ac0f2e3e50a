import type { Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { ExportSampler } from '../../src/telemetry/exportSampler.js';
import type { FinishedWebhook } from '../../src/telemetry/finishedWebhook.js';
import { getWebhookHub } from '../../src/telemetry/webhookHub.js';
import type { WebhookTrace } from '../../src/telemetry/webhookTrace.js';

/**
 * A tracer of its own (the service's sampler, a resource with every kind of attribute value and a schema URL,
 * a versioned scope), for webhooks traced outside a running service.
 */
export function makeTestTracer(): Tracer {
  const resource = resourceFromAttributes(
    {
      'service.name': 'tv-webhook-test',
      'service.instance.id': 'instance-1',
      'process.pid': 4242,
      'host.load': 0.75,
      'test.flag': true,
      'process.command_args': ['node', '--import', 'x.js'],
    },
    { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
  );
  return new TracerProvider({ resource, sampler: new ExportSampler() }).getTracer('tv-webhook', '1.2.3');
}

/** Runs `traced` (which makes and finishes a WebhookTrace) and returns what it handed to the webhook hub. */
export function finishTestWebhook(traced: () => WebhookTrace): FinishedWebhook {
  const seen: FinishedWebhook[] = [];
  const detach = getWebhookHub().attach(
    (w) => void seen.push(w),
    (err) => {
      throw err;
    },
  );
  try {
    const trace = traced();
    const finished = seen.find((w) => w.webhookId === trace.webhookId);
    if (!finished) throw new Error('the webhook was not finished');
    return finished;
  } finally {
    detach();
  }
}
