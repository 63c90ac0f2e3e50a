import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CONFIG_VARIABLES, parseConfig } from '../src/config/parseConfig.js';
import { projectRoot } from '../src/db/projectRoot.js';
import { requireTools, TOOLS } from './support/stackTools.js';

const root = projectRoot();
const read = (...p: string[]) => readFile(path.join(root, ...p), 'utf8');
const UNIT = path.join(root, 'deploy', 'tv-webhook.service');

/** A systemd unit file as section -> key -> values (a key may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]!] = {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `unit line outside a section or without '=': ${line}`);
    (current[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return sections;
}

/** KEY=VALUE lines of an environment file (comments and blank lines skipped), as systemd's EnvironmentFile= reads them. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    assert.ok(m, `not KEY=VALUE: ${line}`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** The last command of package.json's start script (after its build step), as words. */
async function startCommand(): Promise<string[]> {
  const pkg = JSON.parse(await read('package.json'));
  return pkg.scripts.start.split('&&').at(-1).trim().split(/\s+/);
}

describe('deploy/: the systemd unit and its environment file for a plain VPS', () => {
  let unit: Record<string, Record<string, string[]>>;
  let service: Record<string, string[]>;
  let env: Record<string, string>;
  const one = (key: string) => {
    assert.equal(service[key]?.length, 1, `${key}= set once`);
    return service[key]![0]!;
  };
  before(async () => {
    unit = parseUnit(await readFile(UNIT, 'utf8'));
    service = unit.Service!;
    env = parseEnvFile(await read('deploy', 'tv-webhook.env.example'));
  });

  it('ExecStart is package.json\'s start command (without the build), and so is the Dockerfile\'s CMD', async () => {
    const start = await startCommand();
    const exec = one('ExecStart').split(/\s+/);
    assert.equal(path.basename(exec[0]!), start[0], 'runs node');
    assert.ok(path.isAbsolute(exec[0]!), 'systemd needs the absolute path of the program');
    assert.deepEqual(exec.slice(1), start.slice(1));
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(await read('Dockerfile'))![1]!);
    assert.deepEqual(cmd.slice(1), start.slice(1));
  });

  it('the web service and the worker start with the same V8 heap bound, and the default record buffer fits in it', async () => {
    const scripts = JSON.parse(await read('package.json')).scripts as Record<string, string>;
    const heapFlag = (script: string) => /--max-old-space-size=(\d+)/.exec(script)?.[1];
    const mib = heapFlag(scripts.start!);
    assert.ok(mib, 'npm start bounds the heap (README, Memory)');
    assert.equal(heapFlag(scripts.worker!), mib, 'npm run worker has the same bound');
    // V8's allocation-site pretenuring off in both (README, Memory): the same V8 flags, whichever process it is.
    const v8Flags = (script: string) => script.split(/\s+/).filter((word) => word.startsWith('--') && !word.startsWith('--import'));
    assert.ok(v8Flags(scripts.start!).includes('--no-allocation-site-pretenuring'), 'npm start turns pretenuring off');
    assert.deepEqual(v8Flags(scripts.worker!), v8Flags(scripts.start!), 'npm run worker has the same flags');
    assert.doesNotThrow(() => parseConfig({}, { heapLimitBytes: Number(mib) * 2 ** 20 }));
  });

  it('every file ExecStart names is compiled from a source in the repository', async () => {
    const tsconfig = JSON.parse(await read('tsconfig.json')).compilerOptions;
    const outDir = path.join(root, tsconfig.outDir);
    const files = one('ExecStart').split(/\s+/).slice(1).filter((arg) => arg.endsWith('.js'));
    assert.deepEqual(files.map((f) => path.basename(f)), ['instrumentation.js', 'main.js']);
    for (const file of files) {
      const compiled = path.resolve(root, file);
      assert.ok(compiled.startsWith(outDir + path.sep), `${file} is under ${tsconfig.outDir}/`);
      const source = path.join(root, tsconfig.rootDir, path.relative(outDir, compiled)).replace(/\.js$/, '.ts');
      assert.ok(existsSync(source), `${file} comes from ${path.relative(root, source)}`);
    }
  });

  it('runs as its own unprivileged user, restarts on failure, and can write only its data folder', () => {
    assert.ok(!['root', '0', ''].includes(one('User')));
    assert.ok(one('WorkingDirectory').startsWith('/'));
    assert.equal(one('EnvironmentFile'), '/etc/tv-webhook.env');
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('ProtectHome'), 'yes');
    assert.equal(one('PrivateTmp'), 'yes');
    assert.equal(one('CapabilityBoundingSet'), '');
    const dataDir = `/var/lib/${one('StateDirectory')}`;
    assert.equal(one('ReadWritePaths'), dataDir);
    assert.equal(env.DATA_DIR, dataDir, 'the env file keeps DATA_DIR in the folder the unit may write');
  });

  it('stops with SIGTERM to the service alone, and waits longer than SHUTDOWN_TIMEOUT_MS', () => {
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(one('KillMode'), 'mixed', 'the embedded Postgres is stopped by the service after it drains');
    const stopMs = Number(/^(\d+)s$/.exec(one('TimeoutStopSec'))?.[1]) * 1000;
    const config = parseConfig(env);
    assert.ok(stopMs >= config.service.shutdownTimeoutMs + 5_000, `TimeoutStopSec ${stopMs} ms vs SHUTDOWN_TIMEOUT_MS ${config.service.shutdownTimeoutMs} ms`);
    assert.ok(stopMs >= parseConfig({}).service.shutdownTimeoutMs + 5_000, 'also above the default');
  });

  it('the env file names only real settings, holds no secret, and keeps everything but Caddy\'s upstream on loopback', () => {
    for (const name of Object.keys(env)) {
      // OTEL_* variables the OpenTelemetry SDK reads itself (OTEL_SERVICE_NAME) are real settings too.
      assert.ok(CONFIG_VARIABLES.includes(name) || name.startsWith('OTEL_'), `${name} is not a setting of the service`);
    }
    for (const name of ['WEBHOOK_SECRETS', 'ADMIN_TOKEN', 'WEBHOOK_SIGNING_SECRET', 'FORWARD_SIGNING_SECRET']) {
      assert.ok(!env[name], `${name} is left empty in the example`);
    }
    assert.doesNotMatch(env.DATABASE_URL ?? '', /:[^@/]+@/, 'no database password');
    const config = parseConfig(env);
    assert.equal(config.http.host, '127.0.0.1', 'only Caddy, on this host, reaches the webhook listener');
    assert.equal(config.http.port, 3000, 'deploy/Caddyfile forwards to 127.0.0.1:3000 by default');
    assert.equal(config.http.opsHost, '127.0.0.1');
    assert.equal(config.http.adminApiOnOps, true);
  });

  it('systemd-analyze verify accepts the unit', function () {
    requireTools(this, TOOLS.systemdAnalyze);
    const r = spawnSync(TOOLS.systemdAnalyze, ['verify', '--man=no', UNIT], { encoding: 'utf8' });
    // verify reports a missing ExecStart program; Node.js at /usr/bin/node is the deployment's, not this machine's.
    const output = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l && !/is not executable|No such file or directory/.test(l));
    assert.deepEqual(output, [], `${r.stdout}${r.stderr}`);
  });
});
