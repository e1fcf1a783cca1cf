/**
 * HPACK against RFC 7541's own examples (Appendix C: C.2 to C.6, with and without Huffman, and the dynamic table
 * after each block), against every rule that makes a block malformed, and the encoder's choices (what it indexes,
 * its table size updates). The decoder and encoder are also held to nghttp2 in test/http/hpack-differential.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder, HpackEncoder, HpackError } from '../../src/http/h2/hpack.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncode, huffmanLength } from '../../src/http/h2/huffman.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

type Fields = [string, string][];

/** Decodes one block; returns its fields as pairs (or throws). */
function decode(d: HpackDecoder, block: Buffer, maxListSize = 1 << 20): Fields {
  const out: string[] = [];
  const n = d.decode(block, out, maxListSize);
  assert.ok(n >= 0, `header list over ${maxListSize}`);
  const fields: Fields = [];
  for (let i = 0; i < n; i++) fields.push([out[2 * i]!, out[2 * i + 1]!]);
  return fields;
}

const flat = (fields: Fields): string[] => fields.flat();

interface Step {
  block: string;
  fields: Fields;
  /** The dynamic table after the block, newest first, and its size (RFC 7541 Appendix C's "Dynamic Table"). */
  table: Fields;
  size: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Appendix C.2: one field each, on a fresh decoder.

test('C.2.1 literal header field with indexing', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')), [
    ['custom-key', 'custom-header'],
  ]);
  assert.deepEqual(d.dynamicTable(), [['custom-key', 'custom-header']]);
  assert.equal(d.dynamicTableSize, 55);
});

test('C.2.2 literal header field without indexing', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, hex('040c 2f73 616d 706c 652f 7061 7468')), [[':path', '/sample/path']]);
  assert.deepEqual(d.dynamicTable(), []);
  assert.equal(d.dynamicTableSize, 0);
});

test('C.2.3 literal header field never indexed', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, hex('1008 7061 7373 776f 7264 0673 6563 7265 74')), [['password', 'secret']]);
  assert.deepEqual(d.dynamicTable(), []);
});

test('C.2.4 indexed header field', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, hex('82')), [[':method', 'GET']]);
  assert.deepEqual(d.dynamicTable(), []);
});

// ---------------------------------------------------------------------------------------------------------------
// Appendix C.3 to C.6: sequences on one connection.

const REQ1: Fields = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
const REQ2: Fields = [...REQ1, ['cache-control', 'no-cache']];
const REQ3: Fields = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];
const REQ_TABLES: Fields[] = [
  [[':authority', 'www.example.com']],
  [['cache-control', 'no-cache'], [':authority', 'www.example.com']],
  [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']],
];
const REQ_SIZES = [57, 110, 164];

const C3: Step[] = [
  '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
  '8286 84be 5808 6e6f 2d63 6163 6865',
  '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
].map((block, i) => ({ block, fields: [REQ1, REQ2, REQ3][i]!, table: REQ_TABLES[i]!, size: REQ_SIZES[i]! }));

const C4: Step[] = [
  '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
  '8286 84be 5886 a8eb 1064 9cbf',
  '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
].map((block, i) => ({ block, fields: [REQ1, REQ2, REQ3][i]!, table: REQ_TABLES[i]!, size: REQ_SIZES[i]! }));

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESP1: Fields = [[':status', '302'], ['cache-control', 'private'], ['date', DATE1], ['location', LOCATION]];
const RESP2: Fields = [[':status', '307'], ['cache-control', 'private'], ['date', DATE1], ['location', LOCATION]];
const RESP3: Fields = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', DATE2],
  ['location', LOCATION],
  ['content-encoding', 'gzip'],
  ['set-cookie', COOKIE],
];
const RESP_TABLES: Fields[] = [
  [['location', LOCATION], ['date', DATE1], ['cache-control', 'private'], [':status', '302']],
  [[':status', '307'], ['location', LOCATION], ['date', DATE1], ['cache-control', 'private']],
  [['set-cookie', COOKIE], ['content-encoding', 'gzip'], ['date', DATE2]],
];
const RESP_SIZES = [222, 222, 215];

const C5: Step[] = [
  '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d ' +
    '546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
  '4803 3330 37c1 c0bf',
  '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f ' +
    '6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b ' +
    '2076 6572 7369 6f6e 3d31',
].map((block, i) => ({ block, fields: [RESP1, RESP2, RESP3][i]!, table: RESP_TABLES[i]!, size: RESP_SIZES[i]! }));

const C6: Step[] = [
  '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 ' +
    '8f0b 97c8 e9ae 82ae 43d3',
  '4883 640e ffc1 c0bf',
  '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 ' +
    'dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
].map((block, i) => ({ block, fields: [RESP1, RESP2, RESP3][i]!, table: RESP_TABLES[i]!, size: RESP_SIZES[i]! }));

function runSequence(steps: Step[], tableSize: number): void {
  const d = new HpackDecoder(tableSize);
  for (const [i, step] of steps.entries()) {
    assert.deepEqual(decode(d, hex(step.block)), step.fields, `block ${i + 1}`);
    assert.deepEqual(d.dynamicTable(), step.table, `table after block ${i + 1}`);
    assert.equal(d.dynamicTableSize, step.size, `table size after block ${i + 1}`);
  }
}

test('C.3 requests without Huffman: fields and dynamic table after each', () => runSequence(C3, 4096));
test('C.4 requests with Huffman: fields and dynamic table after each', () => runSequence(C4, 4096));
test('C.5 responses without Huffman, 256-octet table: evictions', () => runSequence(C5, 256));
test('C.6 responses with Huffman, 256-octet table: evictions', () => runSequence(C6, 256));

test('the encoder writes C.3 and C.4 byte for byte (raw and Huffman)', () => {
  for (const [steps, huffman] of [[C3, false], [C4, true]] as const) {
    const e = new HpackEncoder({ huffman });
    for (const step of steps) assert.equal(e.encode(flat(step.fields), step.fields.length).toString('hex'), hex(step.block).toString('hex'));
  }
});

test('the encoder writes C.5 and C.6 after its 256-octet size update, but for set-cookie (never indexed) and a tie', () => {
  for (const [steps, huffman] of [[C5, false], [C6, true]] as const) {
    const e = new HpackEncoder({ huffman });
    const d = new HpackDecoder(4096);
    e.setPeerMaxTableSize(256);
    const blocks = steps.map((s) => e.encode(flat(s.fields), s.fields.length));
    // 256 in a 5-bit prefix: 0x3f, then 256 − 31 = 225 in 7-bit groups.
    assert.equal(blocks[0]!.toString('hex'), '3fe101' + hex(steps[0]!.block).toString('hex'));
    // C.6.2 Huffman-codes "307" in as many octets as raw; meshctl codes only what gets shorter.
    const second = huffman ? '4803333037c1c0bf' : hex(steps[1]!.block).toString('hex');
    assert.equal(blocks[1]!.toString('hex'), second);
    // The RFC indexes set-cookie; meshctl sends it never indexed (a credential): the block is the RFC's up to there.
    const rfc3 = hex(steps[2]!.block);
    const ours = blocks[2]!;
    const cookieAt = rfc3.indexOf(0x77); // 0x40 | 55 (set-cookie), incremental indexing
    assert.equal(ours.subarray(0, cookieAt).toString('hex'), rfc3.subarray(0, cookieAt).toString('hex'));
    assert.equal(ours[cookieAt], 0x1f); // never indexed, name index 55 = 15 + 40
    assert.equal(ours[cookieAt + 1], 55 - 15);
    for (const [i, s] of steps.entries()) assert.deepEqual(decode(d, blocks[i]!), s.fields);
    assert.deepEqual(d.dynamicTable(), [
      ['content-encoding', 'gzip'],
      ['date', DATE2],
      [':status', '307'],
      ['location', LOCATION],
    ]);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Huffman code.

test('Huffman: the derived canonical code is Appendix B (spot checks across every length) and complete', () => {
  const expected: [number, number, number][] = [
    [0x00, 0x1ff8, 13], [0x01, 0x7fffd8, 23], [0x09, 0xffffea, 24], [0x0a, 0x3ffffffc, 30], [0x16, 0x3ffffffe, 30],
    [0x20, 0x14, 6], [0x30, 0x0, 5], [0x3c, 0x7ffc, 15], [0x5c, 0x7fff0, 19], [0x61, 0x3, 5], [0x74, 0x9, 5],
    [0x7b, 0x7ffe, 15], [0x7f, 0xffffffc, 28], [0x80, 0xfffe6, 20], [0x99, 0x1fffdc, 21], [0xc7, 0x1ffffec, 25],
    [0xcb, 0x7ffffde, 27], [0xdc, 0xffffffd, 28], [0xfe, 0x7fffff0, 27], [0xff, 0x3ffffee, 26], [256, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of expected) {
    assert.equal(HUFFMAN_LENGTHS[sym], len, `length of ${sym}`);
    assert.equal(HUFFMAN_CODES[sym], code, `code of ${sym}`);
  }
  // Kraft: a complete prefix code's 2^-len sum to exactly 1.
  let kraft = 0;
  for (let s = 0; s <= 256; s++) kraft += 2 ** (30 - HUFFMAN_LENGTHS[s]!);
  assert.equal(kraft, 2 ** 30);
});

test('Huffman: every octet round-trips, and lengths agree with the encoder', () => {
  let all = '';
  for (let c = 0; c < 256; c++) all += String.fromCharCode(c);
  for (const s of [all, 'a', '', 'www.example.com', 'x'.repeat(1000) + '\u00ff\u0000']) {
    const buf = Buffer.alloc(huffmanLength(s) + 4);
    const end = huffmanEncode(s, buf, 2);
    assert.equal(end - 2, huffmanLength(s));
    assert.equal(huffmanDecode(buf, 2, end), s);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Malformed blocks: each rule.

function rejects(block: string, why: RegExp, d = new HpackDecoder()): void {
  assert.throws(() => d.decode(hex(block), [], 1 << 20), (e: unknown) => e instanceof HpackError && why.test(e.message), block);
}

/** A literal without indexing, new name "a", whose value is the Huffman-coded octets `h`. */
const huffValue = (h: string): string => `00 0161 ${(0x80 | (h.length / 2)).toString(16)} ${h}`;

test('rejects: integer overflow and truncated integers', () => {
  rejects('ff ff ff ff ff 0f', /overflow/); // 127 + 2^35-ish
  rejects('ff 80 80 80 80 80 80 01', /overflow/); // zero continuation octets past 2^35
  rejects('ff 80 ff ff ff 7f', /overflow/);
  rejects('ff', /truncated integer/);
  rejects('ff 80', /truncated integer/);
  rejects('00 7f', /truncated integer/); // a string length
  // 2^31 − 1 is the largest accepted: as an index it is merely out of range.
  rejects('ff 80 ff ff ff 07', /beyond the tables/);
});

test('rejects: truncated string literals', () => {
  rejects('40', /truncated string/);
  rejects('40 05 616263', /longer than the block/);
  rejects('40 01 61', /truncated string/); // name, but no value
  rejects('01 85 1234', /longer than the block/);
});

test('rejects: Huffman strings holding EOS, or padded with more than 7 bits or with zeros', () => {
  // '0' (00000), then 35 ones: the 30-bit EOS inside.
  rejects(huffValue('1fffffffff'), /Huffman/);
  rejects(huffValue('ffffffff'), /Huffman/); // 32 ones
  rejects(huffValue('1fff'), /Huffman/); // '0' then 11 one-bits of padding
  rejects(huffValue('ff'), /Huffman/); // 8 one-bits: no symbol, padding too long
  rejects(huffValue('18'), /Huffman/); // 'a' (00011) then 000
  rejects(huffValue('00'), /Huffman/); // '0' then 000
  // The same strings with proper padding decode: '0' + 111, 'a' + 111, and the empty string.
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, hex(huffValue('07'))), [['a', '0']]);
  assert.deepEqual(decode(d, hex(huffValue('1f'))), [['a', 'a']]);
  assert.deepEqual(decode(d, hex('00 0161 80')), [['a', '']]);
});

test('rejects: index 0 and indexes beyond the static and dynamic tables', () => {
  rejects('80', /index 0/);
  rejects('be', /index 62 beyond/); // empty dynamic table
  rejects('7e 0161', /index 62 beyond/); // literal naming entry 62
  rejects('0f 2f 0161', /index 62 beyond/); // without indexing, 4-bit prefix: 15 + 47
  rejects('1f 2f 0161', /index 62 beyond/); // never indexed
  const d = new HpackDecoder();
  decode(d, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')); // one entry: 62
  assert.deepEqual(decode(d, hex('be')), [['custom-key', 'custom-header']]);
  rejects('bf', /index 63 beyond/, d);
});

test('rejects: a dynamic table size update after a field, or above the setting', () => {
  rejects('82 20', /after a header field/);
  rejects('3f e2 1f', /above the setting 4096/); // 4097
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, hex('3f e1 1f 20 3f e1 1f 82')), [[':method', 'GET']]); // 4096, 0, 4096: all opening
  rejects('3f 46', /above the setting 100/, new HpackDecoder(100)); // 101
});

test('a lowered setting requires a size update, at most the lowest setting, at the start of the next block', () => {
  const d = new HpackDecoder();
  decode(d, hex(C3[0]!.block));
  d.setMaxTableSize(100);
  rejects('82', /must open with a dynamic table size update of at most 100/, d);
  rejects('', /must open/, d);
  rejects('3f 46 82', /above the setting 100/, d);
  assert.deepEqual(decode(d, hex('3f 45 be')), [[':authority', 'www.example.com']]); // update to 100 keeps the 57-octet entry
  assert.deepEqual(decode(d, hex('82')), [[':method', 'GET']]); // satisfied: no further update needed
  // Lowered to 50 then raised to 4096 before the next block: an update of at most 50 must come first.
  d.setMaxTableSize(50);
  d.setMaxTableSize(4096);
  rejects('3f e1 1f 82', /at most 50/, d);
  assert.deepEqual(decode(d, hex('3f 13 3f e1 1f 82')), [[':method', 'GET']]); // 50 (evicts), then 4096
  assert.deepEqual(d.dynamicTable(), []);
  // Raising the setting requires nothing.
  d.setMaxTableSize(8192);
  assert.deepEqual(decode(d, hex('82')), [[':method', 'GET']]);
});

test('an entry larger than the table empties it and is not added (RFC 7541 §4.4)', () => {
  const d = new HpackDecoder(64);
  decode(d, hex('40 0161 0162')); // 34 octets
  assert.equal(d.dynamicTableSize, 34);
  decode(d, hex('40 0161 0162 40 0163 0164')); // 68 in all: the first is evicted
  assert.deepEqual(d.dynamicTable(), [['c', 'd']]);
  decode(d, hex(`40 0161 20 ${'62'.repeat(32)}`)); // 65 > 64
  assert.deepEqual(d.dynamicTable(), []);
  assert.equal(d.dynamicTableSize, 0);
  rejects('be', /beyond/, d);
});

test('maxListSize: a block over it still updates the table, writes no more fields, and returns -1', () => {
  const d = new HpackDecoder();
  const out = ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'sentinel'];
  // C.3.1's list: 4 fields, 32 × 4 + 7 + 3 + 7 + 4 + 5 + 1 + 10 + 15 = 180 octets.
  assert.equal(d.decode(hex(C3[0]!.block), out, 179), -1);
  assert.deepEqual(out.slice(0, 6), [':method', 'GET', ':scheme', 'http', ':path', '/']);
  assert.equal(out[6], 'x'); // the field that crossed the limit was not written
  assert.equal(out[10], 'sentinel'); // out is never truncated
  assert.deepEqual(d.dynamicTable(), REQ_TABLES[0]);
  assert.equal(d.decode(hex(C3[1]!.block), out, 1 << 20), 5); // still in sync: uses entry 62
  assert.equal(d.decode(hex(C3[0]!.block), out, 180), 4); // exactly at the limit is allowed
});

test('latin1: obs-text and control octets pass through raw literals both ways', () => {
  const value = 'caf\u00e9 \u00ff\u0080\u0001';
  const e = new HpackEncoder({ huffman: false });
  const d = new HpackDecoder();
  const block = e.encode(['x-obs', value], 1);
  assert.ok(block.includes(Buffer.from([0xe9, 0x20, 0xff, 0x80, 0x01])));
  assert.deepEqual(decode(d, block), [['x-obs', value]]);
  assert.deepEqual(decode(d, new HpackEncoder().encode(['x-obs', value], 1)), [['x-obs', value]]);
});

// ---------------------------------------------------------------------------------------------------------------
// Encoder choices.

const RESPONSE = [
  ':status', '200',
  'content-type', 'application/json',
  'content-length', '1234',
  'date', 'Mon, 07 Dec 2026 03:00:00 GMT',
  'server', 'envoy',
  'x-envoy-upstream-service-time', '3',
  'x-request-id', '0d6f5f6e-8a1b-4a55-9d4f-3c0c2f0f6a11',
  'set-cookie', 'session=abc',
];

test('encoder: a repeated response is mostly one-octet indexed fields; unique-valued names are not indexed', () => {
  for (const huffman of [false, true]) {
    const e = new HpackEncoder({ huffman });
    const d = new HpackDecoder();
    const first = e.encode(RESPONSE, RESPONSE.length / 2);
    const second = e.encode(RESPONSE, RESPONSE.length / 2);
    const pairs = (b: Buffer): string[] => {
      const out: string[] = [];
      const n = d.decode(b, out, 1 << 20);
      return out.slice(0, 2 * n);
    };
    assert.deepEqual(pairs(first), RESPONSE);
    assert.deepEqual(pairs(second), RESPONSE);
    // Table: content-type, date, server, and the two unique-valued names without a static entry (once each).
    assert.deepEqual(
      d.dynamicTable().map(([n]) => n),
      ['x-request-id', 'x-envoy-upstream-service-time', 'server', 'date', 'content-type'],
    );
    // Second time: every field but content-length and set-cookie indexed (one octet each, 6); content-length by
    // static name (index 28 takes 2 octets in a 4-bit prefix, + 1 + at most 4); set-cookie never indexed, by static
    // name (2 + 1 + at most 11).
    assert.ok(second.length <= 6 + 7 + 14, `${second.length} octets`);
    const changed = [...RESPONSE];
    changed[5] = '99';
    changed[13] = '7f0b';
    assert.deepEqual(pairs(e.encode(changed, changed.length / 2)), changed);
    assert.equal(d.dynamicTable().length, 5, 'unique values were not inserted');
  }
});

test('encoder: table size updates follow the peer setting (lowest first), and size 0 disables indexing', () => {
  const e = new HpackEncoder({ huffman: false });
  const d = new HpackDecoder();
  decode(d, e.encode(RESPONSE, 4));
  e.setPeerMaxTableSize(0);
  d.setMaxTableSize(0);
  const b0 = e.encode(RESPONSE, 4);
  assert.equal(b0[0], 0x20); // update to 0
  assert.deepEqual(flat(decode(d, b0)), RESPONSE.slice(0, 8));
  assert.deepEqual(d.dynamicTable(), []);
  e.setPeerMaxTableSize(100);
  e.setPeerMaxTableSize(65536); // capped at 4096
  d.setMaxTableSize(65536);
  const b1 = e.encode(RESPONSE, 4);
  assert.equal(b1.subarray(0, 3).toString('hex'), '3fe11f'); // 4096, no intermediate (nothing lower than 0 owed)
  assert.deepEqual(flat(decode(d, b1)), RESPONSE.slice(0, 8));
  e.setPeerMaxTableSize(1000);
  e.setPeerMaxTableSize(2000);
  const b2 = e.encode(RESPONSE, 1);
  assert.equal(b2.subarray(0, 6).toString('hex'), '3fc907' + '3fb10f'); // 1000 then 2000
  assert.deepEqual(flat(decode(d, b2)), RESPONSE.slice(0, 2));
  assert.equal(e.encode(RESPONSE, 1).toString('hex'), '88'); // no update owed any more
});

test('encoder: entries over half the table are not indexed, so they do not flush it', () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  const big = ['x-big', 'v'.repeat(2100), 'server', 'envoy'];
  decode(d, e.encode(big, 2));
  decode(d, e.encode(big, 2));
  assert.deepEqual(d.dynamicTable(), [['server', 'envoy']]);
});

test('encoder: many distinct values evict oldest first and never reference an evicted entry', () => {
  const e = new HpackEncoder({ huffman: false });
  const d = new HpackDecoder();
  for (let i = 0; i < 500; i++) {
    const f = ['server', 'envoy', 'x-v', `value-${i % 97}`, 'x-w', `w${i % 13}`];
    assert.deepEqual(flat(decode(d, e.encode(f, 3))), f);
  }
  assert.ok(d.dynamicTableSize <= 4096);
});

test('Huffman: the eight-bit state table decodes (and refuses) random octet strings as a bit-by-bit walk does', async () => {
  const fc = (await import('fast-check')).default;
  const byCode = new Map<string, number>();
  for (let s = 0; s <= 256; s++) byCode.set(HUFFMAN_CODES[s]!.toString(2).padStart(HUFFMAN_LENGTHS[s]!, '0'), s);
  /** RFC 7541 §5.2 read literally: codes bit by bit; leftover bits must be fewer than 8 and all ones; EOS is an error. */
  const reference = (b: Uint8Array): string | null => {
    let out = '';
    let bits = '';
    for (const octet of b) {
      for (let i = 7; i >= 0; i--) {
        bits += (octet >> i) & 1;
        const sym = byCode.get(bits);
        if (sym === undefined) continue;
        if (sym === 256) return null;
        out += String.fromCharCode(sym);
        bits = '';
      }
    }
    return bits.length < 8 && !bits.includes('0') ? out : null;
  };
  // Random octets (mostly refused), and valid encodings with their last octets disturbed (mostly accepted).
  const octets = fc.uint8Array({ maxLength: 24 });
  const encoded = fc
    .tuple(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 20 }), fc.nat(255), fc.boolean())
    .map(([s, x, flip]) => {
      const buf = Buffer.alloc(huffmanLength(s));
      huffmanEncode(s, buf, 0);
      if (flip && buf.length > 0) buf[buf.length - 1]! ^= x;
      return new Uint8Array(buf);
    });
  fc.assert(
    fc.property(fc.oneof(octets, encoded), (b) => {
      assert.equal(huffmanDecode(b, 0, b.length), reference(b));
    }),
    { seed: 20261207, numRuns: 20000 },
  );
});
