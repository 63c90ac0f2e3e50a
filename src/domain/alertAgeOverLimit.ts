import type { Signal } from './types.js';

/**
 * MAX_ALERT_AGE_SECONDS's rule, in one place for the two moments it is applied: when the alert is decided (a late
 * copy is declined) and when its turn to execute comes (an alert that grew old waiting is not sent). The alert's
 * age in seconds at `now` when it is over `maxAlertAgeSeconds`; undefined when it is not, when the limit is off (0),
 * or when the alert carries no time.
 */
export function alertAgeOverLimit(signal: Pick<Signal, 'alertTime'>, maxAlertAgeSeconds: number, now: Date): number | undefined {
  if (!(maxAlertAgeSeconds > 0) || !signal.alertTime) return undefined;
  const ageSeconds = (now.getTime() - signal.alertTime.getTime()) / 1000;
  return ageSeconds > maxAlertAgeSeconds ? ageSeconds : undefined;
}
