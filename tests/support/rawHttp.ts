import net from 'node:net';

export interface RawExchange {
  /** Everything the server wrote before the connection closed. */
  response: string;
  /** Milliseconds from connecting to the server closing the connection (or our own destroy). */
  elapsedMs: number;
}

/**
 * Talks HTTP over a raw TCP socket, for what fetch cannot send: a body cut short, a malformed request, a sender
 * that trickles bytes. Writes `first` at once; then `trickle` every `trickleEveryMs` until the server closes;
 * or, with `destroyAfterMs`, hangs up itself.
 */
export function rawHttp(
  baseUrl: string,
  options: { first: string; trickle?: string; trickleEveryMs?: number; destroyAfterMs?: number },
): Promise<RawExchange> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(Number(url.port), url.hostname);
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, elapsedMs: performance.now() - started });
    });
    socket.on('connect', () => {
      socket.write(options.first);
      if (options.trickle !== undefined) {
        timer = setInterval(() => socket.writable && socket.write(options.trickle!), options.trickleEveryMs ?? 200);
      }
      if (options.destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), options.destroyAfterMs);
    });
  });
}

/** The JSON body of a raw HTTP/1.1 response (after the blank line), or undefined. */
export function rawJsonBody(response: string): any {
  const at = response.indexOf('\r\n\r\n');
  return at < 0 ? undefined : JSON.parse(response.slice(at + 4));
}

export const WEBHOOK_REQUEST_HEAD = 'POST /api/webhooks/tradingview HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n';
