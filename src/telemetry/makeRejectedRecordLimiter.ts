/**
 * How many records of rejected requests the sink keeps: at most `perClientPerMinute` from one client (source
 * address) and `perMinute` in all, over a rolling minute. The per-client bound comes first, so one noisy sender
 * uses up its own share and cannot crowd the records of other senders out of the global one. 0 = no bound.
 *
 * A rolling minute is estimated the usual way for rate limits (a sliding-window counter): the previous
 * minute's count weighted by how much of it still lies in the last 60 s, plus this minute's count. Two numbers
 * per client, and at most `maxClients` clients: past that the one seen least recently is forgotten (it can then
 * store up to its share again, within the global bound).
 */
export interface RejectedRecordLimiter {
  /** Whether a rejected request's record from `client` may be kept at `nowMs`; counts it if so. */
  allow(client: string, nowMs: number): boolean;
  /** Clients tracked (bounded by maxClients). */
  readonly clients: number;
}

interface Window {
  minute: number;
  current: number;
  previous: number;
}

const MINUTE_MS = 60_000;

function roll(w: Window, minute: number): void {
  if (w.minute === minute) return;
  w.previous = w.minute === minute - 1 ? w.current : 0;
  w.current = 0;
  w.minute = minute;
}

function estimate(w: Window, nowMs: number): number {
  const elapsed = (nowMs % MINUTE_MS) / MINUTE_MS;
  return w.previous * (1 - elapsed) + w.current;
}

export function makeRejectedRecordLimiter(options: { perMinute: number; perClientPerMinute: number; maxClients: number }): RejectedRecordLimiter {
  const global: Window = { minute: 0, current: 0, previous: 0 };
  const byClient = new Map<string, Window>();

  const clientWindow = (client: string, minute: number): Window => {
    let w = byClient.get(client);
    if (w) {
      // Most recently seen last: the map's first entry is the one to forget.
      byClient.delete(client);
    } else {
      if (byClient.size >= options.maxClients) byClient.delete(byClient.keys().next().value as string);
      w = { minute, current: 0, previous: 0 };
    }
    byClient.set(client, w);
    roll(w, minute);
    return w;
  };

  return {
    allow(client, nowMs) {
      const minute = Math.floor(nowMs / MINUTE_MS);
      const w = options.perClientPerMinute > 0 ? clientWindow(client, minute) : undefined;
      if (w && estimate(w, nowMs) >= options.perClientPerMinute) return false;
      if (options.perMinute > 0) {
        roll(global, minute);
        if (estimate(global, nowMs) >= options.perMinute) return false;
        global.current += 1;
      }
      if (w) w.current += 1;
      return true;
    },
    get clients() {
      return byClient.size;
    },
  };
}
