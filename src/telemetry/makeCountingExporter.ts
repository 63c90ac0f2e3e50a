import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { toError } from '../domain/errors.js';

export interface ExportHealth {
  exported: number;
  failed: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

export function makeExportHealth(): ExportHealth {
  return { exported: 0, failed: 0, lastError: null, lastErrorAt: null };
}

/**
 * Wraps an exporter to count delivered and failed spans (a dead collector must be visible, never fatal), in
 * `health` (given when another exporter shares it).
 */
export function makeCountingExporter(
  inner: SpanExporter,
  onFailure: (spans: number) => void,
  onHandedOver: (spans: number) => void = () => undefined,
  health: ExportHealth = makeExportHealth(),
): { exporter: SpanExporter; health: ExportHealth } {
  const exporter: SpanExporter = {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      onHandedOver(spans.length);
      try {
        inner.export(spans, (result) => {
          if (result.code === ExportResultCode.SUCCESS) health.exported += spans.length;
          else {
            health.failed += spans.length;
            health.lastError = result.error?.message ?? 'export failed';
            health.lastErrorAt = new Date().toISOString();
            onFailure(spans.length);
          }
          done(result);
        });
      } catch (err) {
        health.failed += spans.length;
        health.lastError = toError(err).message;
        health.lastErrorAt = new Date().toISOString();
        onFailure(spans.length);
        done({ code: ExportResultCode.FAILED, error: toError(err) });
      }
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
  return { exporter, health };
}
