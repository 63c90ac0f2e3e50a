import autocannon from 'autocannon';

export interface ClosedResult {
  connections: number;
  durationSeconds: number;
  requestsPerSecond: number;
  total: number;
  non2xx: number;
  errors: number;
}

/** Closed-loop throughput: `connections` keep-alive connections, each sending its next request on an answer. */
export async function runClosed(url: string, connections: number, durationSeconds: number, nextBody: () => string): Promise<ClosedResult> {
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req: any) => ({ ...req, body: nextBody() }),
    }],
  });
  return {
    connections,
    durationSeconds,
    requestsPerSecond: result.requests.total / durationSeconds,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
