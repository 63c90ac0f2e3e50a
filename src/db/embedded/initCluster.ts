import { spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RunAs } from './prepareRunAs.js';

/**
 * Creates a new cluster in `clusterDir` with the superuser `postgres` and `password` (SCRAM). The password
 * reaches initdb through a file in a private folder next to the cluster (mode 0700, owned by the account that
 * runs Postgres), removed whatever happens; a failed initdb leaves no half-made cluster behind either.
 */
export async function initCluster(options: { binDir: string; clusterDir: string; password: string; runAs: RunAs | undefined; logger: Logger }): Promise<void> {
  const { clusterDir, runAs } = options;
  const own = async (p: string) => {
    if (runAs) await chown(p, runAs.uid, runAs.gid);
  };
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  await own(clusterDir);
  const secretDir = await mkdtemp(path.join(path.dirname(clusterDir), '.initdb-'));
  let ok = false;
  try {
    await own(secretDir);
    const pwfile = path.join(secretDir, 'pw');
    await writeFile(pwfile, `${options.password}\n`, { mode: 0o600 });
    await own(pwfile);
    const args = [`--pgdata=${clusterDir}`, '--username=postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(path.join(options.binDir, 'initdb'), args, {
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
        env: { ...process.env, LC_ALL: 'C' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`initdb failed (exit ${code}): ${text.trim().split('\n').slice(-3).join(' ')}`))));
    });
    options.logger.debug({ initdb: output.trim() }, 'embedded postgres initialised');
    ok = true;
  } finally {
    await rm(secretDir, { recursive: true, force: true });
    if (!ok) await rm(clusterDir, { recursive: true, force: true });
  }
}
