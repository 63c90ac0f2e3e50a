import type pg from 'pg';
import { waitFor } from './waitFor.js';

/**
 * What tests need from graphile-worker's queue, in one place. graphile-worker documents its tables as private
 * (`_private_*`: no public interface, they change between versions); its public interface is the
 * `graphile_worker.jobs` view and its admin functions (`reschedule_jobs`, ...). Everything here uses those,
 * except the two helpers marked PRIVATE, for which graphile-worker has no public way (a job's payload, and a
 * lock taken by a worker that then died): when graphile-worker changes its tables, only this file changes.
 */

type Db = Pick<pg.Pool, 'query'> | pg.Client;

export interface QueuedJob {
  id: string;
  attempts: number;
  runAt: Date;
  lockedAt: Date | null;
}

/** The job with this key (our jobs' key is their signal id), or undefined once it is done. */
export async function findJob(db: Db, key: string): Promise<QueuedJob | undefined> {
  const { rows } = await db.query<{ id: string; attempts: number; run_at: Date; locked_at: Date | null }>(
    'SELECT id, attempts, run_at, locked_at FROM graphile_worker.jobs WHERE key = $1',
    [key],
  );
  const row = rows[0];
  return row ? { id: row.id, attempts: row.attempts, runAt: row.run_at, lockedAt: row.locked_at } : undefined;
}

/**
 * Waits until the job with this key has ended its `attempts`-th attempt and waits, unlocked, for the next (its
 * retry, or an order kept for it).
 */
export async function waitForAttemptEnd(db: Db, key: string, attempts: number, what: string): Promise<void> {
  await waitFor(async () => {
    const job = await findJob(db, key);
    return job?.attempts === attempts && job.lockedAt === null;
  }, { what });
}

/** Jobs in the queue: all of them, or those with one of these keys. */
export async function countJobs(db: Db, keys?: string | string[]): Promise<number> {
  const { rows } = keys === undefined
    ? await db.query<{ n: number }>('SELECT count(*)::int AS n FROM graphile_worker.jobs')
    : await db.query<{ n: number }>('SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = ANY($1::text[])', [[keys].flat()]);
  return rows[0]!.n;
}

/** Keys of the jobs of one queue, in the order they were added. */
export async function listJobKeys(db: Db, queueName: string): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>('SELECT key FROM graphile_worker.jobs WHERE queue_name = $1 ORDER BY id', [queueName]);
  return rows.map((r) => r.key);
}

/**
 * Moves the run time of a waiting job to `secondsAgo` before now (0 = now), with graphile-worker's own
 * reschedule_jobs. Throws when no job was moved (graphile-worker does not move a job a worker holds).
 */
export async function rescheduleJob(db: Db, key: string, secondsAgo = 0): Promise<void> {
  const { rows } = await db.query(
    `SELECT id FROM graphile_worker.reschedule_jobs(
       ARRAY(SELECT id FROM graphile_worker.jobs WHERE key = $1), run_at := now() - make_interval(secs => $2))`,
    [key, secondsAgo],
  );
  if (rows.length !== 1) throw new Error(`no waiting job with key ${key} to reschedule`);
}

/** Removes the waiting job with this key, with graphile-worker's own remove_job (as an operator's mistake would). */
export async function removeJob(db: Db, key: string): Promise<void> {
  const { rows } = await db.query('SELECT id FROM graphile_worker.remove_job($1)', [key]);
  if (rows.length !== 1 || rows[0].id === null) throw new Error(`no waiting job with key ${key} to remove`);
}

/** PRIVATE: the payload of the job with this key (the jobs view leaves payloads out). */
export async function readJobPayload(db: Db, key: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query(`SELECT payload FROM ${PRIVATE_JOBS_TABLE} WHERE key = $1`, [key]);
  return rows[0]?.payload;
}

/**
 * PRIVATE: makes the job with this key (and its queue) look taken `hoursAgo` by a worker that died after its first
 * attempt began, as a crash leaves them.
 */
export async function lockAsDeadWorker(db: Db, key: string, hoursAgo: number): Promise<void> {
  await db.query(
    `WITH j AS (
       UPDATE ${PRIVATE_JOBS_TABLE} SET locked_at = now() - make_interval(secs => $2::float8 * 3600), locked_by = 'dead-worker', attempts = 1
        WHERE key = $1 RETURNING job_queue_id)
     UPDATE graphile_worker._private_job_queues SET locked_at = now() - make_interval(secs => $2::float8 * 3600), locked_by = 'dead-worker'
      WHERE id IN (SELECT job_queue_id FROM j)`,
    [key, hoursAgo],
  );
}

/**
 * PRIVATE: makes the next `count` job completions fail in Postgres (graphile-worker completes a job by deleting
 * its row), as a statement cut off by a restart or a lost connection does. A sequence counts them: its values
 * survive the rollback of the statement that failed.
 */
export async function failNextJobCompletions(db: Db, count: number): Promise<void> {
  await db.query(`
    CREATE SEQUENCE test_failed_completions;
    CREATE FUNCTION test_fail_completion() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('test_failed_completions') <= ${Number(count)} THEN
        RAISE EXCEPTION 'injected by the test: this job completion fails';
      END IF;
      RETURN OLD;
    END $$;
    CREATE TRIGGER test_fail_completion BEFORE DELETE ON ${PRIVATE_JOBS_TABLE} FOR EACH ROW EXECUTE FUNCTION test_fail_completion();`);
}

/** graphile-worker's private jobs table: for checks that a role can NOT read it. */
export const PRIVATE_JOBS_TABLE = 'graphile_worker._private_jobs';
