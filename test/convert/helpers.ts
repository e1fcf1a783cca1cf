/** Shared by the convert tests: model equality that ignores source metadata, and the fixture corpus. */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FIXTURES } from '../helpers/cli.js';

/** A deep copy of a model with only its enumerable string-keyed fields (no META, no undefined fields). */
export function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = plain(x);
    }
    return out;
  }
  return v;
}

/** Two models are the same config when their fields are equal; where each came from (META) does not matter. */
export function assertSameModel(actual: unknown, expected: unknown, message?: string): void {
  assert.deepStrictEqual(plain(actual), plain(expected), message);
}

const CORPORA = ['seed', 'textproto', 'envoy', 'valid', 'quickstart'];
const CONFIG_EXT = /\.(textproto|txtpb|pbtxt|prototxt|ya?ml|json)$/i;

/** Every config under the round-trip corpora (never fixtures/invalid), as paths relative to fixtures/. */
export function fixtureFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (CONFIG_EXT.test(name)) out.push(relative(FIXTURES, p));
    }
  };
  for (const c of CORPORA) walk(join(FIXTURES, c));
  return out;
}
