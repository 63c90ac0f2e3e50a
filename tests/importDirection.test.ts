import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layering of src/ (the README's "Layout" section says the same in words): each folder may import only the
 * folders listed for it, all of them further down. `root` is src/'s own files (main.ts, startService.ts, ...),
 * the composition root: it may import everything, nothing imports it. Imports of packages are not checked.
 */
export const ALLOWED_IMPORTS: Record<string, readonly string[]> = {
  root: ['http', 'api', 'pipeline', 'monitoring', 'execution', 'telemetry', 'db', 'config', 'domain'],
  http: ['api', 'pipeline', 'monitoring', 'execution', 'telemetry', 'db', 'config', 'domain'],
  api: ['pipeline', 'monitoring', 'execution', 'telemetry', 'db', 'config', 'domain'],
  pipeline: ['execution', 'telemetry', 'db', 'config', 'domain'],
  monitoring: ['execution', 'telemetry', 'db', 'config', 'domain'],
  execution: ['telemetry', 'db', 'config', 'domain'],
  telemetry: ['db', 'config', 'domain'],
  db: ['config', 'domain'],
  config: ['domain'],
  domain: [],
};

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** `import ... from '...'`, `export ... from '...'`, `import '...'` and `import('...')`, type-only ones included. */
const IMPORT_PATTERN = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listTs(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : 'root';
}

interface Edge {
  file: string;
  specifier: string;
  from: string;
  to: string;
}

/** Every import between two different folders of src/. */
export function listCrossFolderImports(source: (file: string) => string = (f) => readFileSync(f, 'utf8')): Edge[] {
  const edges: Edge[] = [];
  for (const file of listTs(SRC)) {
    for (const match of source(file).matchAll(IMPORT_PATTERN)) {
      const specifier = match[1] ?? match[2]!;
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      const from = folderOf(file);
      const to = target.startsWith(SRC + sep) ? folderOf(target) : 'outside src';
      if (from !== to) edges.push({ file: relative(resolve(SRC, '..'), file), specifier, from, to });
    }
  }
  return edges;
}

/** Folder cycles (a imports b, b imports a, directly or through others), each as a path a -> ... -> a. */
function findCycles(edges: Edge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) (next.get(e.from) ?? next.set(e.from, new Set()).get(e.from)!).add(e.to);
  const cycles: string[] = [];
  const visit = (start: string, node: string, path: string[]) => {
    for (const to of next.get(node) ?? []) {
      if (to === start) cycles.push([...path, to].join(' -> '));
      else if (!path.includes(to) && to > start) visit(start, to, [...path, to]);
    }
  };
  for (const start of [...next.keys()].sort()) visit(start, start, [start]);
  return cycles;
}

describe('import direction: src/ folders import only the folders below them', () => {
  const edges = listCrossFolderImports();

  it('finds the imports it checks (the parser sees every kind of import)', () => {
    const sample = listCrossFolderImports((f) =>
      f.endsWith(`${sep}domain${sep}types.ts`)
        ? "import { a } from '../http/x.js';\nimport type {\n  b,\n} from '../db/y.js';\nexport * from '../api/z.js';\nconst c = await import('../config/w.js');\nimport '../pipeline/v.js';"
        : '',
    );
    assert.deepEqual(
      sample.map((e) => `${e.from} -> ${e.to}`),
      ['domain -> http', 'domain -> db', 'domain -> api', 'domain -> config', 'domain -> pipeline'],
    );
    assert.ok(edges.length > 50, `only ${edges.length} cross-folder imports found in src/`);
  });

  it('every folder of src/ has its row in the table', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    const missing = folders.filter((f) => !(f in ALLOWED_IMPORTS));
    assert.deepEqual(missing, [], `add these folders to ALLOWED_IMPORTS (and the README's layout section): ${missing.join(', ')}`);
  });

  it('the table itself points one way (no folder allowed to import one that may import it)', () => {
    assert.deepEqual(findCycles(Object.entries(ALLOWED_IMPORTS).flatMap(([from, tos]) => tos.map((to) => ({ file: '', specifier: '', from, to })))), []);
  });

  it('no import goes up or sideways', () => {
    const wrong = edges
      .filter((e) => !(ALLOWED_IMPORTS[e.from] ?? []).includes(e.to))
      .map((e) => `${e.file} imports ${e.specifier} (${e.from} may not import ${e.to})`);
    assert.deepEqual(wrong, []);
  });

  it('no two folders import each other, directly or through others', () => {
    assert.deepEqual(findCycles(edges), []);
  });
});
