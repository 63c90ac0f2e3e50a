import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import pg from 'pg';
import { ScramOnlyClient } from '../src/db/ScramOnlyClient.js';
import { isEmbeddedServerUrl } from '../src/db/isEmbeddedServerUrl.js';
import { createTestDatabase } from './support/testDatabase.js';

/** An Authentication message (backend 'R') with its code and extra bytes. */
function authentication(code: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.write('R', 0);
  head.writeInt32BE(8 + extra.length, 1);
  head.writeInt32BE(code, 5);
  return Buffer.concat([head, extra]);
}
const READY_FOR_QUERY = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]); // 'Z', length 5, idle

/**
 * A program listening where the embedded Postgres should be, as a local user could while it is down: it answers
 * the startup message with `answer`, and keeps every byte the client sends after it.
 */
async function startImpostor(answer: Buffer) {
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    let startup = true;
    socket.on('data', (chunk) => {
      if (startup) {
        startup = false;
        socket.write(answer);
      } else received.push(chunk);
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `postgres://tvwebhook:the-app-password@127.0.0.1:${port}/tvwebhook`,
    sent: () => Buffer.concat(received).toString('latin1'),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('ScramOnlyClient: the embedded Postgres\'s password goes only to a server that completes SCRAM', function () {
  this.timeout(20_000);

  for (const [what, answer, asked] of [
    ['the password in clear text', authentication(3), /asked for the password in clear text/],
    ['an MD5 hash of it', authentication(5, Buffer.from([1, 2, 3, 4])), /asked for an MD5 hash of the password/],
    ['nothing ("authentication ok" at once)', Buffer.concat([authentication(0), READY_FOR_QUERY]), /let the client in without a SCRAM exchange/],
  ] as const) {
    it(`refuses a server that asks for ${what}, and sends it nothing (pg's own client sends the password)`, async () => {
      const impostor = await startImpostor(answer);
      try {
        const client = new ScramOnlyClient({ connectionString: impostor.url, connectionTimeoutMillis: 5_000 });
        client.on('error', () => undefined);
        await assert.rejects(client.connect(), (err: Error) => asked.test(err.message) && /EMBEDDED_PG_PORT/.test(err.message));
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.doesNotMatch(impostor.sent(), /the-app-password/);
        assert.equal(impostor.sent().includes('p'), false, 'no PasswordMessage');

        // The stock client, against the same program, answers what it is asked (why the service does not use it there).
        if (what !== 'nothing ("authentication ok" at once)') {
          const stock = new pg.Client({ connectionString: impostor.url, connectionTimeoutMillis: 1_000 });
          stock.on('error', () => undefined);
          await stock.connect().catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 100));
          if (what === 'the password in clear text') assert.match(impostor.sent(), /the-app-password/);
          else assert.match(impostor.sent(), /^p/);
          await stock.end().catch(() => undefined);
        }
      } finally {
        await impostor.close();
      }
    });
  }

  it('logs in to a real Postgres that asks for SCRAM (the embedded server) and runs queries', async function () {
    if (process.env.TEST_DATABASE_URL) this.skip(); // a server of the operator's, whose authentication is its own
    const db = await createTestDatabase();
    try {
      const client = new ScramOnlyClient({ connectionString: db.url });
      await client.connect();
      try {
        assert.deepEqual((await client.query('SELECT 1 + 1 AS two')).rows, [{ two: 2 }]);
        assert.equal((await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = pg_backend_pid()`)).rows[0].n, 1);
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
  });
});

describe('isEmbeddedServerUrl: a DATABASE_URL that reaches the embedded Postgres logs in as carefully', () => {
  it('is a loopback address at EMBEDDED_PG_PORT, nothing else', () => {
    const port = 54329;
    for (const url of ['postgres://u:p@127.0.0.1:54329/tvwebhook', 'postgresql://u:p@localhost:54329/x', 'postgres://u:p@[::1]:54329/x']) {
      assert.equal(isEmbeddedServerUrl(url, port), true, url);
    }
    for (const url of ['postgres://u:p@127.0.0.1:5432/tvwebhook', 'postgres://u:p@db.example.com:54329/x', 'postgres://u:p@127.0.0.1/x', 'not a url']) {
      assert.equal(isEmbeddedServerUrl(url, port), false, url);
    }
  });
});
