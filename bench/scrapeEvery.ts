/** A Prometheus stand-in: GET `${opsUrl}/metrics` every `intervalMs` until stopped. */
export interface Scraper {
  /** Stops scraping and waits for a scrape under way; resolves to the scrapes answered 200. */
  stop(): Promise<number>;
}

export function scrapeEvery(opsUrl: string, intervalMs: number): Scraper {
  let answered = 0;
  // One scrape at a time, as Prometheus scrapes a target: a tick that comes while one is under way is skipped, so
  // none is still running when stop() resolves.
  let inFlight: Promise<void> | undefined;
  const scrape = () => {
    inFlight ??= fetch(`${opsUrl}/metrics`).then(async (r) => {
      await r.text();
      if (r.ok) answered += 1;
    }, () => undefined).finally(() => (inFlight = undefined));
  };
  const timer = setInterval(scrape, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      return answered;
    },
  };
}
