import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readlink, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PostgresBinaries } from './locatePostgresBinaries.js';
import { canAccess, type RunAs } from './prepareRunAs.js';

/**
 * Where root keeps what the unprivileged Postgres account must reach when the project sits in a folder it
 * cannot enter (a clone under /root, mode 0700, is the common case on a VPS). Nothing else is moved. Not
 * /var/lib/tv-webhook: that is the systemd unit's private state folder (mode 0700), which this must not open up.
 */
export const SHARED_ROOT = '/var/lib/tv-webhook-postgres';

/**
 * The Postgres binaries, where `runAs` can execute them: in place when it can (always, when not root), else a
 * copy of the package's native folder under SHARED_ROOT, made once per version (copied aside, then renamed,
 * so a half-made copy is never used).
 */
export async function placeBinaries(binaries: PostgresBinaries, runAs: RunAs | undefined): Promise<string> {
  const bin = (dir: string) => path.join(dir, 'bin', 'postgres');
  if (canAccess(runAs, bin(binaries.nativeDir), '-x')) return binaries.nativeDir;
  const target = path.join(SHARED_ROOT, `postgres-${binaries.version}`);
  if (!existsSync(bin(target))) {
    await mkdir(SHARED_ROOT, { recursive: true, mode: 0o755 });
    await chmod(SHARED_ROOT, 0o755);
    const partial = `${target}.partial-${randomBytes(4).toString('hex')}`;
    try {
      await cp(binaries.nativeDir, partial, { recursive: true, verbatimSymlinks: true });
      await chmod(partial, 0o755);
      await rename(partial, target);
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }
  if (!canAccess(runAs, bin(target), '-x')) {
    throw new Error(`The "${runAs!.user}" account cannot run ${bin(target)}: check that ${SHARED_ROOT} is not on a noexec mount.`);
  }
  return target;
}

/**
 * The cluster folder Postgres is given. It is `DATA_DIR/pg` whenever `runAs` can reach DATA_DIR. When it cannot
 * (root with DATA_DIR inside a 0700 home), the cluster lives under SHARED_ROOT/clusters (one per DATA_DIR) and
 * `DATA_DIR/pg` is a link to it, so the data is still found (and backed up) through DATA_DIR/pg.
 */
export async function placeCluster(dataDir: string, runAs: RunAs | undefined): Promise<string> {
  const resolvedDataDir = path.resolve(dataDir);
  await mkdir(resolvedDataDir, { recursive: true });
  const link = path.join(resolvedDataDir, 'pg');
  const stat = await lstat(link).catch(() => undefined);
  if (stat?.isSymbolicLink()) return realpath(link).catch(async () => readlink(link));
  if (canAccess(runAs, resolvedDataDir, '-x')) return link;
  if (stat) {
    throw new Error(`${link} exists, but the "${runAs!.user}" account that runs Postgres cannot enter ${resolvedDataDir}. Move the data folder somewhere it can reach (DATA_DIR), or run as another user.`);
  }
  const id = createHash('sha256').update(resolvedDataDir).digest('hex').slice(0, 16);
  const clusters = path.join(SHARED_ROOT, 'clusters');
  await mkdir(clusters, { recursive: true, mode: 0o755 });
  await chmod(SHARED_ROOT, 0o755);
  await chmod(clusters, 0o755);
  const target = path.join(clusters, id);
  await writeFile(path.join(clusters, `${id}.source`), `${resolvedDataDir}\n`);
  await symlink(target, link);
  return target;
}
