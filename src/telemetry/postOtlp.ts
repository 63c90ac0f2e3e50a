import http from 'node:http';
import https from 'node:https';
import { toError } from '../domain/errors.js';

/** A keep-alive agent for one OTLP endpoint: one connection, reused by every export. */
export function makeOtlpAgent(url: URL): http.Agent {
  const options = { keepAlive: true, maxSockets: 1 };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

/**
 * POSTs one OTLP/HTTP protobuf export request (its bytes in `chunks`, with the operator's `headers`) and resolves when the receiver answers
 * 2xx; rejects on any other status, a connection error, or after `timeoutMs` in all (the request is then
 * destroyed). The body of the answer is read and discarded (a partial success is not inspected). A request
 * that fails with ECONNRESET on a reused connection (closed by the receiver while idle) is sent once more on
 * a fresh one, as Node's documentation advises; nothing else is retried.
 */
export async function postOtlp(url: URL, agent: http.Agent, headers: Record<string, string>, chunks: Buffer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    await postOnce(url, agent, headers, chunks, timeoutMs);
  } catch (err) {
    const e = toError(err) as Error & { code?: string; reusedSocket?: boolean };
    if (e.code !== 'ECONNRESET' || !e.reusedSocket || Date.now() >= deadline) throw e;
    await postOnce(url, agent, headers, chunks, deadline - Date.now());
  }
}

function postOnce(url: URL, agent: http.Agent, headers: Record<string, string>, chunks: Buffer[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let length = 0;
    for (const c of chunks) length += c.length;
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-type': 'application/x-protobuf', 'content-length': length },
    });
    const timer = setTimeout(() => request.destroy(new Error(`OTLP export timed out after ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const fail = (err: unknown) => {
      clearTimeout(timer);
      reject(Object.assign(toError(err), { reusedSocket: request.reusedSocket }));
    };
    request.on('error', fail);
    request.on('response', (response) => {
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`OTLP export failed: HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`));
      });
      response.resume();
    });
    for (let i = 0; i < chunks.length - 1; i++) request.write(chunks[i]);
    request.end(chunks[chunks.length - 1]);
  });
}
