import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MIN_SECRET_CHARS } from './parseConfig.js';

export interface ResolvedSecrets {
  webhookSecrets: string[];
  adminToken: string;
  /** Which values were generated on this start (so the banner can say "new"). */
  generated: { webhookSecret: boolean; adminToken: boolean };
  /** Passwords of the embedded Postgres (only when it is used): its superuser, and the service's own role. */
  embeddedDatabase?: EmbeddedDatabasePasswords;
}

export interface EmbeddedDatabasePasswords {
  superuserPassword: string;
  appPassword: string;
}

interface StoredSecrets {
  webhookSecret?: string;
  adminToken?: string;
  embeddedDbSuperuserPassword?: string;
  embeddedDbAppPassword?: string;
}

export const SECRETS_FILE_NAME = 'secrets.json';

/** Where generated secrets are kept; 401 answers and the banner point here (never at the value). */
export function secretsFilePath(dataDir: string): string {
  return path.join(dataDir, SECRETS_FILE_NAME);
}

/** A hand-edited file is held to the rule for operator-set secrets; a value that is not text counts as short. */
function checkStoredLength(file: string, stored: StoredSecrets): void {
  for (const name of ['webhookSecret', 'adminToken'] as const) {
    const value: unknown = stored[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length < MIN_SECRET_CHARS) {
      throw new Error(
        `${file}: ${name} must be text of at least ${MIN_SECRET_CHARS} characters (a short secret is guessed). ` +
          `Delete the ${name} entry to have a long random one generated, or set a long one there.`,
      );
    }
  }
}

/** 32 random bytes, URL-safe: 256 bits, safe to put in a query string. */
function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Configured values always win. A value that is not configured is read from DATA_DIR/secrets.json, or generated
 * there (mode 0600) on the first start, so that the URL pasted into TradingView keeps working across restarts.
 */
export async function loadGeneratedSecrets(
  dataDir: string,
  configured: { webhookSecrets: string[] | undefined; adminToken: string | undefined; embeddedDatabase?: boolean },
): Promise<ResolvedSecrets> {
  const file = secretsFilePath(dataDir);
  const stored = (await readStoredSecrets(dataDir)) ?? {};
  let changed = false;
  if (configured.embeddedDatabase) {
    // Generated once and kept: the cluster's passwords must survive restarts (and a separate worker reads them).
    if (!stored.embeddedDbSuperuserPassword) {
      stored.embeddedDbSuperuserPassword = generateToken();
      changed = true;
    }
    if (!stored.embeddedDbAppPassword) {
      stored.embeddedDbAppPassword = generateToken();
      changed = true;
    }
  }
  checkStoredLength(file, stored);
  const generated = { webhookSecret: false, adminToken: false };
  if (!configured.webhookSecrets && !stored.webhookSecret) {
    stored.webhookSecret = generateToken();
    generated.webhookSecret = true;
  }
  if (!configured.adminToken && !stored.adminToken) {
    stored.adminToken = generateToken();
    generated.adminToken = true;
  }
  if (changed || generated.webhookSecret || generated.adminToken) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
    await chmod(file, 0o600);
  } else {
    await keepPrivate(file);
  }
  return {
    webhookSecrets: configured.webhookSecrets ?? [stored.webhookSecret as string],
    adminToken: configured.adminToken ?? (stored.adminToken as string),
    generated,
    embeddedDatabase:
      configured.embeddedDatabase && stored.embeddedDbSuperuserPassword && stored.embeddedDbAppPassword
        ? { superuserPassword: stored.embeddedDbSuperuserPassword, appPassword: stored.embeddedDbAppPassword }
        : undefined,
  };
}

/**
 * A secrets.json written by hand (or restored from a backup) keeps the mode it was given: 0644 let every local user
 * read the webhook secret, the admin token and the database passwords. It is made 0600. A file that cannot be
 * changed (a read-only mount, another owner's) keeps the mode its owner gave it.
 */
async function keepPrivate(file: string): Promise<void> {
  const mode = (await stat(file).catch(() => undefined))?.mode;
  if (mode === undefined || (mode & 0o077) === 0) return;
  await chmod(file, 0o600).catch(() => undefined);
}

/** DATA_DIR/secrets.json as stored, or undefined when there is none yet. */
export async function readStoredSecrets(dataDir: string): Promise<StoredSecrets | undefined> {
  const file = path.join(dataDir, SECRETS_FILE_NAME);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${file}: ${(err as Error).message}. Fix or delete the file.`);
  }
}
