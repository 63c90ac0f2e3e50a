/**
 * The smallest UUIDv7 of the given instant. Signal ids are UUIDv7 (their first 48 bits are the receipt time in
 * milliseconds), so `id >= uuidv7Floor(t)` selects the signals received since t through the primary key,
 * without an index on received_at (one more index would cost every accepted webhook an insert).
 */
export function uuidv7Floor(at: Date): string {
  const hex = Math.max(0, Math.floor(at.getTime())).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
