import type { FastifyInstance } from 'fastify';
import { countAppliedMigrations } from '../db/countAppliedMigrations.js';
import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import type { Lifecycle } from '../domain/lifecycle.js';

/** What /readyz says of a database it cannot reach. */
const DATABASE_UNREACHABLE = 'not reachable (the service log says why)';

/** `/healthz`: the process is alive. `/readyz`: ready for traffic (started, not draining, database reachable, schema current). */
export function registerHealthRoutes(app: FastifyInstance, deps: { pool: Pool; lifecycle: Lifecycle; expectedMigrations: number }): void {
  app.get('/healthz', async () => ({ status: 'ok', state: deps.lifecycle.state }));

  app.get('/readyz', async (request, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    checks.lifecycle = { ok: deps.lifecycle.state === 'ready', detail: deps.lifecycle.state };
    try {
      const started = performance.now();
      const applied = await countAppliedMigrations(deps.pool);
      checks.database = { ok: true, detail: `${(performance.now() - started).toFixed(1)} ms` };
      checks.migrations = { ok: applied >= deps.expectedMigrations, detail: `${applied}/${deps.expectedMigrations} applied` };
    } catch (err) {
      // Not the driver's message: /readyz needs no token and is on the public listener, and that message names the
      // database's address and user ("connect ECONNREFUSED 10.0.0.5:5432", "password authentication failed for
      // user ..."). The log has it.
      request.log.warn({ err: toError(err) }, 'not ready: the database is not reachable');
      checks.database = { ok: false, detail: DATABASE_UNREACHABLE };
    }
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}
