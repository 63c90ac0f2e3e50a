import { readFileSync } from 'node:fs';

/**
 * The process's limit on open files (the soft one, which Node raises to the hard one at start), from
 * /proc/self/limits; undefined where it cannot be read (not Linux) or is unlimited.
 */
export function readOpenFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * How many accept sockets the port gets: HTTP_ACCEPT_SOCKETS, but never more than a quarter of the open-file
 * limit, so that the connections, Postgres and the files the service opens keep three quarters. Each socket is a
 * descriptor: 1,024 of them under a limit of 1,024 (a host whose hard limit is that low) failed at start with
 * EMFILE. A quarter of 4,096, the lowest common hard limit elsewhere, is the default itself.
 */
export function fitAcceptSockets(requested: number, openFileLimit: number | undefined): number {
  if (openFileLimit === undefined) return requested;
  return Math.max(1, Math.min(requested, Math.floor(openFileLimit / 4)));
}
