/**
 * The run-fate table and the proxy's HTTP filters say the same thing: an HTTP filter is `enforced` in the table
 * exactly when the proxy implements it: the router, and the filters of the proxy's filter registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXTENSION_FATES } from '../../src/config/run-fate/extensions.js';
import { BUILT_HTTP_FILTER_TYPES } from '../../src/proxy/filters/registry.js';

/** The type names (after `type.googleapis.com/`) of the HTTP filters the proxy implements. */
function implementedHttpFilterTypes(): ReadonlySet<string> {
  return new Set(['envoy.extensions.filters.http.router.v3.Router', ...BUILT_HTTP_FILTER_TYPES]);
}

/** The disagreements between the table and a set of implemented HTTP filter types. */
function tableVsImplemented(implemented: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const filters = EXTENSION_FATES.filter((e) => e.kind === 'http-filter');
  for (const e of filters) {
    const built = e.types.some((t) => implemented.has(t));
    if (e.fate === 'enforced' && !built) out.push(`${e.names[0]} is enforced in the table but the proxy does not implement it`);
    if (e.fate !== 'enforced' && built) out.push(`${e.names[0]} is implemented by the proxy but ${e.fate} in the table`);
  }
  for (const t of implemented) if (!filters.some((e) => e.types.includes(t))) out.push(`${t} is implemented by the proxy but not in the table`);
  return out;
}

test('an HTTP filter is enforced in the run-fate table exactly when the proxy implements it', () => {
  assert.deepEqual(tableVsImplemented(implementedHttpFilterTypes()), []);
});

test('the comparison catches both ways of disagreeing', () => {
  const withExtAuthz = new Set([...implementedHttpFilterTypes(), 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz']);
  assert.deepEqual(tableVsImplemented(withExtAuthz), ['envoy.filters.http.ext_authz is implemented by the proxy but refused in the table']);
  assert.deepEqual(
    tableVsImplemented(new Set()),
    EXTENSION_FATES.filter((e) => e.kind === 'http-filter' && e.fate === 'enforced').map((e) => `${e.names[0]} is enforced in the table but the proxy does not implement it`),
  );
  assert.ok(tableVsImplemented(new Set()).length > 1, 'the chain\'s filters are enforced too');
  assert.deepEqual(tableVsImplemented(new Set([...implementedHttpFilterTypes(), 'x.Y'])), ['x.Y is implemented by the proxy but not in the table']);
});
