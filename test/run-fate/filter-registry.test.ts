/**
 * The run-fate table and the proxy's HTTP filters say the same thing: an HTTP filter is `enforced` in the table
 * exactly when the proxy implements it. Today the proxy implements the router (and answers one form of health_check,
 * judged per config by healthCheckServedToday); the filter chain of branch wt-filters brings the rest.
 *
 * At the merge: make implementedHttpFilterTypes() return the type URLs of the proxy's filter registry, and flip the
 * filters of HTTP_FILTERS_AWAITING_CHAIN (src/config/run-fate/extensions.ts) that it implements to `enforced`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXTENSION_FATES } from '../../src/config/run-fate/extensions.js';

/** The type names (after `type.googleapis.com/`) of the HTTP filters the proxy implements. */
function implementedHttpFilterTypes(): ReadonlySet<string> {
  return new Set(['envoy.extensions.filters.http.router.v3.Router']);
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
  const withRbac = new Set([...implementedHttpFilterTypes(), 'envoy.extensions.filters.http.rbac.v3.RBAC']);
  assert.deepEqual(tableVsImplemented(withRbac), ['envoy.filters.http.rbac is implemented by the proxy but refused in the table']);
  assert.deepEqual(tableVsImplemented(new Set()), ['envoy.filters.http.router is enforced in the table but the proxy does not implement it']);
  assert.deepEqual(tableVsImplemented(new Set([...implementedHttpFilterTypes(), 'x.Y'])), ['x.Y is implemented by the proxy but not in the table']);
});
