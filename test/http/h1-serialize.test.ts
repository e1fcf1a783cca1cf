/**
 * The writers of serialize.ts: heads and chunk framing read back by H1Parser give what was written; names, values,
 * methods, targets and reasons that could split a message are refused before anything is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHUNK_END,
  InvalidHeaderError,
  checkHeader,
  chunkHeader,
  isFieldValue,
  isToken,
  lastChunk,
  requestHead,
  responseHead,
} from '../../src/http/h1/serialize.js';
import fc from 'fast-check';
import { parse } from './h1-recorder.js';
import { LlhttpReference } from './llhttp-reference.js';

test('a request head reads back as written: record with repeated values, undefined skipped', () => {
  const head = requestHead('POST', '/a?b=c', { Host: 'h.example', 'x-multi': ['1', '2'], skipped: undefined, 'Content-Length': '3' });
  assert.equal(head, 'POST /a?b=c HTTP/1.1\r\nHost: h.example\r\nx-multi: 1\r\nx-multi: 2\r\nContent-Length: 3\r\n\r\n');
  const r = parse('request', `${head}abc`);
  assert.equal(r.error, null);
  const m = r.messages[0];
  assert.equal(m.head.method, 'POST');
  assert.equal(m.head.target, '/a?b=c');
  assert.deepEqual(m.head.rawHeaders, ['Host', 'h.example', 'x-multi', '1', 'x-multi', '2', 'Content-Length', '3']);
  assert.equal(m.body, 'abc');
});

test('a response head reads back as written, from [name, value, ...] too; HTTP/1.0 when asked', () => {
  const head = responseHead(404, 'Not Found', ['Content-Length', '0', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'], 0);
  assert.equal(head, 'HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n');
  const m = parse('response', head).messages[0];
  assert.equal(m.head.status, 404);
  assert.equal(m.head.reason, 'Not Found');
  assert.equal(m.head.versionMinor, 0);
  assert.deepEqual(m.head.rawHeaders, ['Content-Length', '0', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
});

test('chunk framing with trailers reads back as the body and trailers written', () => {
  const parts = ['hello', 'x'.repeat(300), 'é'];
  let wire = responseHead(200, 'OK', { 'Transfer-Encoding': 'chunked' });
  for (const p of parts) wire += chunkHeader(Buffer.byteLength(p, 'latin1')) + p + CHUNK_END;
  wire += lastChunk({ 'grpc-status': '0', 'grpc-message': 'ok' });
  const m = parse('response', wire).messages[0];
  assert.equal(m.body, parts.join(''));
  assert.deepEqual(m.trailers, ['grpc-status', '0', 'grpc-message', 'ok']);
  assert.equal(chunkHeader(300), '12c\r\n');
  assert.equal(lastChunk(), '0\r\n\r\n');
  assert.equal(lastChunk(null), '0\r\n\r\n');
  assert.throws(() => chunkHeader(0), RangeError);
  assert.throws(() => chunkHeader(1.5), RangeError);
});

test('values that could split a message are refused, naming the field', () => {
  for (const bad of ['a\r\nInjected: 1', 'a\nb', 'a\rb', 'nul\0', '\x01', 'del\x7f', 'wide\u0100']) {
    assert.equal(isFieldValue(bad), false, JSON.stringify(bad));
    assert.throws(
      () => requestHead('GET', '/', { 'X-Bad': bad }),
      (e: unknown) => e instanceof InvalidHeaderError && e.field === 'X-Bad',
    );
    assert.throws(() => responseHead(200, 'OK', ['X-Bad', bad]), InvalidHeaderError);
    assert.throws(() => lastChunk({ t: bad }), InvalidHeaderError);
  }
  for (const good of ['', 'plain', 'tab\there', 'obs-text \xe9\xff', '"quoted", list; a=b']) {
    assert.equal(isFieldValue(good), true, JSON.stringify(good));
    checkHeader('X-Good', good);
  }
});

test('a value checked by the downstream codec is not checked again; anything else is, and every name is', () => {
  const parsed = 'from the parser';
  assert.equal(requestHead('GET', '/', { 'x-a': parsed }, 1, { 'x-a': parsed }), 'GET / HTTP/1.1\r\nx-a: from the parser\r\n\r\n');
  // A value put in after parsing is another string: checked (and refused here), whatever the checked headers hold.
  assert.throws(() => requestHead('GET', '/', { 'x-a': 'b\r\nx-b: c' }, 1, { 'x-a': parsed }), InvalidHeaderError);
  assert.throws(() => requestHead('GET', '/', { 'x-b': 'b\0' }, 1, { 'x-a': parsed }), InvalidHeaderError);
  // Names are checked even when their value is known good.
  assert.throws(() => requestHead('GET', '/', { 'a b': parsed }, 1, { 'a b': parsed }), InvalidHeaderError);
  // A name once found good stays good; a bad one stays bad however often it comes.
  for (let i = 0; i < 3; i++) {
    assert.equal(requestHead('GET', '/', { 'x-ok': 'v' }), 'GET / HTTP/1.1\r\nx-ok: v\r\n\r\n');
    assert.throws(() => requestHead('GET', '/', { 'x(bad)': 'v' }), InvalidHeaderError);
    assert.throws(() => requestHead('G T', '/', {}), InvalidHeaderError);
  }
});

test('names, methods, targets, statuses and reasons are checked', () => {
  for (const bad of ['', 'a b', 'a:b', 'a\r\n', 'é', '(x)', 'a\tb']) {
    assert.equal(isToken(bad), false, JSON.stringify(bad));
    assert.throws(() => requestHead('GET', '/', { [bad]: 'v' }), InvalidHeaderError);
  }
  assert.equal(isToken("!#$%&'*+-.^_`|~09azAZ"), true);
  assert.throws(() => requestHead('GE T', '/', {}), (e: unknown) => e instanceof InvalidHeaderError && e.field === 'method');
  for (const target of ['', '/a b', '/a\r\nX: y', '/\xe9'])
    assert.throws(() => requestHead('GET', target, {}), (e: unknown) => e instanceof InvalidHeaderError && e.field === 'target');
  for (const status of [99, 1000, 200.5, Number.NaN])
    assert.throws(() => responseHead(status, 'X', {}), (e: unknown) => e instanceof InvalidHeaderError && e.field === 'status');
  assert.throws(() => responseHead(200, 'O\r\nK', {}), (e: unknown) => e instanceof InvalidHeaderError && e.field === 'reason');
  assert.equal(responseHead(204, '', {}), 'HTTP/1.1 204 \r\n\r\n');
});

test('anything the writers accept, H1Parser and llhttp read back as written (fast-check)', () => {
  const tchar = fc.constantFrom(...'abcXYZ09!#$%&\'*+-.^_`|~'.split(''));
  const vchar = fc.constantFrom(...'abc XYZ09\t,;="/:\x80\xff'.split(''));
  const name = fc.array(tchar, { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
  // Values as a peer sends them: no leading or trailing OWS (a reader trims it).
  const value = fc.array(vchar, { maxLength: 20 }).map((a) => a.join('').replace(/^[ \t]+|[ \t]+$/g, ''));
  const reserved = /^(content-length|transfer-encoding|connection|upgrade|expect)$/i;
  const fields = fc.array(fc.tuple(name.filter((n) => !reserved.test(n)), value), { maxLength: 10 });
  fc.assert(
    fc.property(fields, fc.constantFrom('GET', 'POST', 'OPTIONS'), fc.array(fc.constantFrom('a', 'b', '/', '%', '?', '='), { maxLength: 12 }), (fs, method, path) => {
      const flat = fs.flat();
      const wire = Buffer.from(requestHead(method, `/${path.join('')}`, flat), 'latin1');
      const ours = parse('request', wire);
      assert.equal(ours.error, null);
      assert.deepEqual(ours.messages[0].head.rawHeaders, flat);
      const ref = new LlhttpReference('request');
      ref.execute(wire);
      assert.equal(ref.outcome().error, null);
      assert.deepEqual(ref.outcome().messages[0].rawHeaders, flat);
    }),
    { seed: Number(process.env.MESHCTL_FC_SEED ?? 20261207), numRuns: 300 },
  );
});
