import http from 'node:http';
import https from 'node:https';

export interface RequestFromOptions {
  /** http(s)://host:port/path?query; for HTTPS the host is the certificate name and `connectTo` the address dialled. */
  url: string;
  /** The client's own source address (any of 127.0.0.0/8 works on Linux loopback): a distinct client per address. */
  localAddress?: string;
  /** The address actually dialled (defaults to the URL's host). */
  connectTo?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Extra trusted CA certificates (PEM) for HTTPS. */
  ca?: string;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/**
 * One real HTTP(S) request from a chosen loopback source address. fetch cannot choose the source address or
 * dial an address other than the URL's host while keeping the name for SNI; node's http(s).request can.
 */
export function requestFrom(options: RequestFromOptions): Promise<Answer> {
  const url = new URL(options.url);
  const secure = url.protocol === 'https:';
  const body = options.body ?? '';
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      {
        host: options.connectTo ?? url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: options.method ?? 'POST',
        localAddress: options.localAddress,
        servername: secure ? url.hostname : undefined,
        ca: options.ca,
        agent: false,
        headers: { host: url.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
