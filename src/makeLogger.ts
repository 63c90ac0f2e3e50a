import pino, { type Logger } from 'pino';

/**
 * JSON logs (pretty when stdout is a terminal). Secrets are redacted by path as a second line of defence:
 * the code never logs bodies, query strings or auth headers in the first place.
 */
export function makeLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["webhook-signature"]',
        'headers.authorization',
        'headers["webhook-signature"]',
        '*.secret',
        '*.passphrase',
        '*.key',
        '*.token',
        'token',
        'secret',
      ],
      censor: '[redacted]',
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
