import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's CPU fields (USER_HZ: 100 on every Linux build we run on). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself (ticks). */
  own: number;
  /** cutime + cstime: its children that have exited and been waited for (ticks). */
  children: number;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: the fields counted after its ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), own: Number(fields[11]) + Number(fields[12]), children: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** CPU seconds a process has used (user + system), from /proc. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const s = await readStat(pid);
  return s ? s.own / TICKS_PER_SECOND : 0;
}

/**
 * CPU seconds used by a Postgres server: the postmaster, its live children (backends, walwriter, checkpointer,
 * autovacuum) and, through the postmaster's cutime, the children that have already exited.
 */
export async function postgresCpuSeconds(postmasterPid: number): Promise<number> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
  let ticks = 0;
  for (const pid of pids) {
    const s = await readStat(pid);
    if (!s) continue;
    if (pid === postmasterPid) ticks += s.own + s.children;
    else if (s.ppid === postmasterPid) ticks += s.own;
  }
  return ticks / TICKS_PER_SECOND;
}

/** The postmaster's pid: the first line of postmaster.pid in its data folder. */
export async function readPostmasterPid(clusterDir: string): Promise<number> {
  return Number((await readFile(`${clusterDir}/postmaster.pid`, 'utf8')).split('\n')[0]);
}

/** CPU seconds of a process's threads by name (/proc/<pid>/task/<tid>/comm: "node" is the main thread, then libuv's "libuv-worker", V8's "V8 DefaultWorke"...). */
export async function threadCpuSeconds(pid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = (await readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8')).trim();
      const text = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * A Postgres server's CPU seconds by kind of process, from each process's title (/proc/<pid>/cmdline:
 * "postgres: walwriter", "postgres: bench bench_monitored 127.0.0.1(5432) idle"...): backends by database, the
 * background processes by name, and "exited" for children already gone (autovacuum workers end when done).
 */
export async function postgresCpuByKind(postmasterPid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const add = (kind: string, ticks: number) => (out[kind] = (out[kind] ?? 0) + ticks / TICKS_PER_SECOND);
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number)) {
    const s = await readStat(pid);
    if (!s) continue;
    if (pid === postmasterPid) {
      add('postmaster', s.own);
      add('exited', s.children);
      continue;
    }
    if (s.ppid !== postmasterPid) continue;
    let title = '';
    try {
      title = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    const words = title.replace(/^postgres:\s*/, '').split(/\s+/);
    const kind = /^(checkpointer|background|walwriter|autovacuum|logical|archiver|walsender|walreceiver|startup|io)/.test(words[0] ?? '')
      ? words.slice(0, words[0] === 'autovacuum' || words[0] === 'background' || words[0] === 'logical' ? 2 : 1).join(' ')
      : `backend ${words[1] ?? '?'}`;
    add(kind, s.own);
  }
  return out;
}
