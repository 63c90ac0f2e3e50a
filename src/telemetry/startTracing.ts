import { NodeSDK } from '@opentelemetry/sdk-node';
import { getExportSampler } from './exportSampler.js';
import { getSpanHub } from './spanHub.js';

const STARTED_KEY = Symbol.for('tv-webhook.tracingStarted');

/**
 * Starts the OpenTelemetry Node SDK once per process, with the span hub as its only span processor. The
 * standard OTEL_* variables apply (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED); exporters
 * are attached to the hub by the service (see makeTelemetry), so that an unset endpoint exports nothing instead
 * of retrying localhost. The sampler records every span and decides only what is exported (exportSampler.ts):
 * the SDK's default, parent-based, would let a caller's `traceparent` with sampled=0 switch monitoring off.
 * OTEL_TRACES_SAMPLER[_ARG] are read by parseConfig and set on it by makeTelemetry.
 */
export function startTracing(): void {
  const g = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (g[STARTED_KEY]) return;
  g[STARTED_KEY] = true;
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ? undefined : 'tv-webhook',
    spanProcessors: [getSpanHub()],
    sampler: getExportSampler(),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
}
