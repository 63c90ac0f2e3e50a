// `npm start` and `npm run worker` run this first: it compiles src/ only when a source file is newer than the last
// build, so a restart does not pay for the TypeScript compiler (about 10 s on a small VPS) when nothing changed.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.build-stamp');

function newestMtimeMs(entry) {
  const stat = statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its folder's mtime
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtimeMs(path.join(entry, name)));
  return newest;
}

const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((p) => path.join(root, p));
const sourcesMs = Math.max(...inputs.map(newestMtimeMs));
const builtMs = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (builtMs >= sourcesMs) {
  console.log('build: dist/ is up to date');
} else {
  console.log('build: compiling src/ (changed since the last build)');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(stamp, `${new Date(sourcesMs).toISOString()}\n`);
}
