/**
 * The folders of src/ are the parts of meshctl (docs/ARCHITECTURE.md), and imports point one way: from the
 * application and the CLI down to the config model. This reads every import in src/ (static, `export … from` and
 * dynamic `import()`) and holds the tree to that order, so a cycle or an upward arrow fails here, not in review.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from '../helpers/cli.js';

/**
 * Each folder's layer: a file may import from its own folder or from a folder of a lower layer, never from the same
 * layer or above. Keep in step with the diagram in docs/ARCHITECTURE.md.
 */
const LAYER: Readonly<Record<string, number>> = {
  config: 0,
  regex: 0,
  balancer: 1,
  http: 1,
  validate: 1,
  time: 2,
  router: 2,
  discovery: 3,
  'control-plane': 3,
  upstream: 4,
  simulate: 5,
  proxy: 5,
  graph: 6,
  app: 7,
  cli: 8,
};

const SRC = join(REPO, 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

const folderOf = (file: string): string => relative(SRC, file).split('/')[0]!;

/** Every folder-to-folder import, with the first place it is made. */
function edges(): Map<string, string> {
  const found = new Map<string, string>();
  const spec = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(spec)) {
      const target = resolve(dirname(file), m[1]!);
      const from = folderOf(file);
      const to = folderOf(target);
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      if (!found.has(key)) found.set(key, `${relative(REPO, file)} imports ${m[1]}`);
    }
  }
  return found;
}

test('every folder of src/ has a layer', () => {
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  assert.deepEqual(folders.filter((f) => LAYER[f] === undefined), [], 'add new folders to LAYER and to docs/ARCHITECTURE.md');
  assert.deepEqual(readdirSync(SRC).filter((n) => !statSync(join(SRC, n)).isDirectory()), [], 'src/ holds folders only');
});

test('imports between folders point down the layers (no cycle, no upward arrow)', () => {
  const wrong: string[] = [];
  const all = edges();
  for (const [key, where] of all) {
    const [from, to] = key.split(' -> ') as [string, string];
    if (LAYER[to]! >= LAYER[from]!) wrong.push(`${key}: ${where}`);
  }
  assert.deepEqual(wrong, []);
  // The check must see the real tree: the engine does use the router and the upstream side.
  assert.ok(all.has('proxy -> router') && all.has('proxy -> upstream') && all.has('cli -> app'), [...all.keys()].join(', '));
});
