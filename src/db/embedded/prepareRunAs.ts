import { execFileSync, spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';

/** The unprivileged account the embedded Postgres runs as when we are root (Postgres refuses to run as root). */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

const ACCOUNT = 'postgres';

function lookUp(user: string): RunAs | undefined {
  const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { user, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Undefined when we are not root (Postgres then runs as we do). As root: the `postgres` system account,
 * created (no home, no login shell) when the host has none.
 */
export function prepareRunAs(): RunAs | undefined {
  if (userInfo().uid !== 0) return undefined;
  const existing = lookUp(ACCOUNT);
  if (existing) return existing;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', ACCOUNT], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`Running as root, the embedded Postgres needs an unprivileged "${ACCOUNT}" account, and useradd failed (${(err as Error).message.split('\n')[0]}). Create the account, run as another user, or set DATABASE_URL.`);
  }
  const created = lookUp(ACCOUNT);
  if (!created) throw new Error(`The "${ACCOUNT}" account was created but cannot be looked up.`);
  return created;
}

/** Whether `runAs` may use `path` as `test` would judge it (`-x`: enter or execute, `-w`: write). */
export function canAccess(runAs: RunAs | undefined, path: string, mode: '-x' | '-w' | '-r'): boolean {
  if (!runAs) return true;
  return spawnSync('test', [mode, path], { uid: runAs.uid, gid: runAs.gid, stdio: 'ignore' }).status === 0;
}
