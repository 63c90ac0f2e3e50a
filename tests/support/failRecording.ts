import type pg from 'pg';

/**
 * Makes the `executions` insert of a forwarded order fail `times` times, as a database blip while the worker
 * records an order that went out would: a trigger counting with a sequence (which a rollback does not undo).
 */
export async function failRecordingForwards(db: Pick<pg.Pool, 'query'>, times: number): Promise<void> {
  await db.query(`
    CREATE SEQUENCE test_recording_failures;
    CREATE FUNCTION test_fail_recording() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.outcome = 'forwarded' AND NEW.response->>'settledByHand' IS NULL AND nextval('test_recording_failures') <= ${Number(times)} THEN
          RAISE EXCEPTION 'simulated failure while recording the execution';
        END IF;
        RETURN NEW;
      END $$;
    CREATE TRIGGER test_fail_recording BEFORE INSERT ON executions FOR EACH ROW EXECUTE FUNCTION test_fail_recording();`);
}
