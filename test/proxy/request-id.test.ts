import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRequestId } from '../../src/proxy/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('request ids are random UUID v4s in lower-case 8-4-4-4-12 form, unique across batches', () => {
  const seen = new Set<string>();
  // Several batches of 128, so refills are crossed.
  for (let i = 0; i < 1000; i++) {
    const id = newRequestId();
    assert.match(id, UUID_V4);
    assert.ok(!seen.has(id), `repeated id ${id}`);
    seen.add(id);
  }
  // Every hex digit position varies (the randomness reaches all 122 random bits' digits), except the version digit.
  const ids = [...seen];
  for (let pos = 0; pos < 36; pos++) {
    if ([8, 13, 18, 23, 14].includes(pos)) continue;
    const digits = new Set(ids.map((id) => id[pos]));
    assert.ok(digits.size >= (pos === 19 ? 4 : 12), `position ${pos}: only ${[...digits].join('')}`);
  }
});
