/**
 * The standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, as the share of traces exported over OTLP (0-1).
 * Records and metrics are never sampled. The parentbased_* variants mean the same as their root sampler here:
 * the parent that matters is our webhook's root span (its stages and the worker follow it), while a caller's
 * `traceparent` is joined for correlation but its sampled flag is not obeyed, so it cannot force export on or off.
 */
const RATIO_SAMPLERS = new Set(['traceidratio', 'parentbased_traceidratio']);
const FIXED: Record<string, number> = {
  always_on: 1,
  parentbased_always_on: 1,
  always_off: 0,
  parentbased_always_off: 0,
};
export const TRACE_SAMPLERS = [...Object.keys(FIXED), ...RATIO_SAMPLERS];

/** Returns the export ratio, or throws an Error whose message names the wrong variable. */
export function parseTraceSampler(sampler: string | undefined, arg: string | undefined): number {
  // The specification's default is parentbased_always_on: every trace that starts here is exported.
  const name = (sampler ?? 'parentbased_always_on').trim().toLowerCase();
  const fixed = FIXED[name];
  if (fixed !== undefined) return fixed;
  if (!RATIO_SAMPLERS.has(name)) {
    throw new Error(`OTEL_TRACES_SAMPLER=${JSON.stringify(sampler)}: must be one of ${TRACE_SAMPLERS.join(', ')}`);
  }
  if (arg === undefined) return 1;
  const ratio = Number(arg);
  if (arg.trim() === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new Error(`OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(arg)}: must be a number from 0 to 1 (the share of traces exported)`);
  }
  return ratio;
}
