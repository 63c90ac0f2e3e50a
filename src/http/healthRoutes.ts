import type { FastifyInstance } from 'fastify';
import { countAppliedMigrations } from '../db/countAppliedMigrations.js';
import type { Pool } from '../db/makePool.js';
import type { Lifecycle } from '../domain/lifecycle.js';

/** `/healthz`: the process is alive. `/readyz`: ready for traffic (started, not draining, database reachable, schema current). */
export function registerHealthRoutes(app: FastifyInstance, deps: { pool: Pool; lifecycle: Lifecycle; expectedMigrations: number }): void {
  app.get('/healthz', async () => ({ status: 'ok', state: deps.lifecycle.state }));

  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    checks.lifecycle = { ok: deps.lifecycle.state === 'ready', detail: deps.lifecycle.state };
    try {
      const started = performance.now();
      const applied = await countAppliedMigrations(deps.pool);
      checks.database = { ok: true, detail: `${(performance.now() - started).toFixed(1)} ms` };
      checks.migrations = { ok: applied >= deps.expectedMigrations, detail: `${applied}/${deps.expectedMigrations} applied` };
    } catch (err) {
      checks.database = { ok: false, detail: (err as Error).message };
    }
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}
