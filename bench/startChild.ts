import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface Child {
  name: string;
  pid: number;
  url: string;
  /** Resident memory of the process now, from /proc (bytes). */
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `node args` with `env`, waits until GET url/readyz answers 200 (up to 60 s). */
export async function startChild(name: string, args: string[], env: Record<string, string>, url: string): Promise<Child> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${stderr}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${name} not ready after 60 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    pid: child.pid!,
    url,
    async rssBytes() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return Number(kb ?? 0) * 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
