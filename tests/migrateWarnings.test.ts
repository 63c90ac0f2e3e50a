import assert from 'node:assert/strict';
import { migrate } from '../src/db/migrate.js';
import { createTestDatabase, quietLogger } from './support/testDatabase.js';

describe('migrate: what a start prints', () => {
  it("runs graphile-worker's migrations without its \"pool doesn't have all of the error handlers\" warning on stderr", async () => {
    const db = await createTestDatabase();
    const warned: string[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => void warned.push(args.map(String).join(' '));
    try {
      await migrate(db.url, quietLogger);
    } finally {
      console.warn = original;
      await db.drop();
    }
    assert.deepEqual(warned.filter((w) => /error handlers/.test(w)), []);
  });
});
