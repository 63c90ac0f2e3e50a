import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseConfig, type Config } from '../../src/config/parseConfig.js';
import { startService, type Service } from '../../src/startService.js';
import { createTestDatabase, quietLogger, type TestDatabase } from './testDatabase.js';

/** At least 16 characters: start-up refuses shorter operator-set secrets. */
export const TEST_SECRET = 'test-secret-one-0123';
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestService extends Service {
  db: TestDatabase;
  config: Config;
  /** POST to the webhook endpoint over real HTTP. */
  post(body: unknown, options?: { contentType?: string; query?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  /** GET an admin API path with the admin token, on the listener that serves it (ADMIN_API_ON_OPS). */
  api(pathAndQuery: string, options?: { token?: string | null; method?: string }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** Starts the real service on a fresh database, on a free port, with test settings plus `env` overrides. */
export async function startTestService(env: Record<string, string> = {}, options: { db?: TestDatabase; logger?: Logger } = {}): Promise<TestService> {
  const db = options.db ?? (await createTestDatabase());
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tvw-svc-'));
  const config = parseConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    OPS_PORT: '0',
    DATA_DIR: dataDir,
    WEBHOOK_SECRETS: TEST_SECRET,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    RATE_LIMIT_PER_MINUTE: '0',
    WORKER_ENABLED: 'false',
    LOG_LEVEL: 'silent',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // Tests open several services in one process: 16 accept sockets each instead of the default 1,024 (77 ms and
    // 1,024 descriptors a service). Spawned services (startServiceProcess) keep the default.
    HTTP_ACCEPT_SOCKETS: '16',
    ...env,
  });
  const service = await startService(config, options.logger ?? quietLogger);
  const post: TestService['post'] = async (body, o = {}) => {
    const contentType = o.contentType ?? 'application/json';
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${service.url}/api/webhooks/tradingview${o.query ? `?${o.query}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...o.headers },
      body: payload,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  const api: TestService['api'] = async (p, o = {}) => {
    const token = o.token === undefined ? TEST_ADMIN_TOKEN : o.token;
    const res = await fetch(`${config.http.adminApiOnOps ? service.opsUrl : service.url}${p}`, {
      method: o.method ?? 'GET',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    ...service,
    db,
    config,
    post,
    api,
    close: async () => {
      await service.stop();
      if (!options.db) await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid alert with the test secret; override any field. */
export function alert(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { secret: TEST_SECRET, ticker: 'BINANCE:BTCUSDT', action: 'buy', quantity: '0.5', price: '50000', ...fields };
}
