import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/db/projectRoot.js';
import { freePort } from './support/freePort.js';

/**
 * The README's first command as a new user on a VPS runs it: as root, from a copy of the project in a folder no
 * other account may enter (mode 0700, like /root), `npm start`; then Ctrl-C in the terminal, which signals the
 * whole foreground process group (npm, the shell, node, and anything else started in that group).
 */
interface Run {
  child: ChildProcess;
  output: () => string;
  /** npm's exit: 0, or the SIGINT it got from the terminal like every process of the group. */
  exited: Promise<number | string | null>;
}

function npmStart(cwd: string, env: Record<string, string>): Run {
  let output = '';
  // `detached` puts npm in a new process group, as a shell does for a foreground job.
  const child = spawn('npm', ['start'], { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return { child, output: () => output, exited };
}

async function waitReady(url: string, run: Run, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (run.child.exitCode !== null) throw new Error(`npm start exited with ${run.child.exitCode}:\n${run.output()}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready within ${timeoutMs} ms:\n${run.output()}`);
}

/** Ctrl-C: SIGINT to every process of the foreground group; resolves when the service has logged its last line. */
async function pressCtrlC(run: Run): Promise<void> {
  process.kill(-run.child.pid!, 'SIGINT');
  const exit = await run.exited;
  assert.ok(exit === 0 || exit === 'SIGINT', `npm exited with ${exit}`);
  const deadline = Date.now() + 15_000;
  while (!/"msg":"stopped"/.test(run.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(run.output(), /"msg":"stopped"/, 'the service said it stopped');
}

async function portOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('first run as root from a 0700 folder: npm start, Ctrl-C, restart', function () {
  this.timeout(240_000);
  let home: string;
  let app: string;

  before(async function () {
    if (userInfo().uid !== 0) {
      console.warn('  skipped: this test runs as root (as CI does), like a trader on a fresh VPS');
      this.skip();
    }
    home = await mkdtemp(path.join(tmpdir(), 'tvw-root-home-'));
    await chmod(home, 0o700);
    app = path.join(home, 'tv-webhook');
    await mkdir(app);
    const root = projectRoot();
    // The project's files as a clone has them (tracked and new, not ignored), and its installed dependencies
    // (hard links: same files, new folders inside the 0700 home).
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root }).toString().split('\0').filter(Boolean);
    for (const file of files) {
      const exists = await lstat(path.join(root, file)).catch(() => undefined);
      if (!exists) continue;
      await mkdir(path.dirname(path.join(app, file)), { recursive: true });
      execFileSync('cp', ['-a', path.join(root, file), path.join(app, file)]);
    }
    execFileSync('cp', ['-al', path.join(root, 'node_modules'), path.join(app, 'node_modules')]);
  });

  after(async () => {
    if (!home) return;
    // As root the cluster lives outside the 0700 home; DATA_DIR/pg links to it.
    const link = path.join(app, '.data', 'pg');
    const target = await readlink(link).catch(() => undefined);
    if (target) await rm(target, { recursive: true, force: true });
    if (target) await rm(`${target}.source`, { force: true });
    await rm(home, { recursive: true, force: true });
  });

  it('starts, accepts an alert, stops cleanly on Ctrl-C in a few lines, and restarts in seconds without recompiling', async () => {
    // A temporary folder of its own, so that what the run leaves there is told apart from other programs' files.
    const privateTmp = path.join(home, 'tmp');
    await mkdir(privateTmp);
    const env = { PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()), OPS_PORT: String(await freePort()), HOST: '127.0.0.1', TMPDIR: privateTmp };
    const url = `http://127.0.0.1:${env.PORT}`;
    const first = npmStart(app, env);
    await waitReady(url, first, 120_000);
    assert.match(first.output(), /build: compiling src\//);
    assert.match(first.output(), /Alert message to paste into TradingView/);

    // The data is where the README says: DATA_DIR/pg (./.data/pg), a link to where the postgres account can reach it.
    const link = await lstat(path.join(app, '.data', 'pg'));
    assert.ok(link.isSymbolicLink(), 'as root in a 0700 home, .data/pg links to the cluster');
    const secrets = JSON.parse(await readFile(path.join(app, '.data', 'secrets.json'), 'utf8'));
    const res = await fetch(`${url}/api/webhooks/tradingview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: secrets.webhookSecret, ticker: 'BTCUSD', action: 'buy', quantity: 1, price: 100 }),
    });
    assert.equal(res.status, 200);
    const { signalId } = (await res.json()) as { signalId: string };

    const linesBefore = first.output().trimEnd().split('\n').length;
    await pressCtrlC(first);
    const shutdownLines = first.output().trimEnd().split('\n').slice(linesBefore);
    assert.ok(shutdownLines.length <= 6, `Ctrl-C printed ${shutdownLines.length} lines:\n${shutdownLines.join('\n')}`);
    assert.doesNotMatch(shutdownLines.join('\n'), /"level":(40|50|60)/, 'no warning or error while stopping');
    assert.equal(await portOpen(Number(env.EMBEDDED_PG_PORT)), false, 'the embedded Postgres stopped too');
    // (Node's own compile cache may live there; nothing of Postgres or its password may.)
    const left = (await readdir(privateTmp)).filter((name) => name !== 'node-compile-cache');
    assert.deepEqual(left, [], 'nothing (no password file) left in the temporary folder');

    const second = npmStart(app, env);
    try {
      const readyMs = await waitReady(url, second, 60_000);
      assert.match(second.output(), /build: dist\/ is up to date/);
      assert.ok(readyMs < 15_000, `restart took ${readyMs} ms`);
      const got = await fetch(`${url}/api/signals/${signalId}`, { headers: { authorization: `Bearer ${secrets.adminToken}` } });
      assert.equal(got.status, 200, 'the signal survived the restart');
    } finally {
      await pressCtrlC(second);
    }
  });
});
