/**
 * HPACK against an independent implementation: nghttp2, the library behind node:http2 (and curl, h2load, Envoy's
 * HTTP/2 codec until oghttp2). fast-check writes connections of several requests and responses with random header
 * names and values (latin1: tokens, spaces, tabs, obs-text; long values; values that repeat across messages so the
 * dynamic tables fill, evict and are referenced), random SETTINGS_HEADER_TABLE_SIZE on both sides and changes of
 * them mid-connection. A node:http2 client sends each request to a raw TCP server of this test, which decodes the
 * HEADERS (+ CONTINUATION) block nghttp2 wrote (Huffman-coded, with its own indexing choices) with HpackDecoder and
 * must find exactly the fields sent, in order; it answers with HpackEncoder's block in a hand-built HEADERS frame,
 * and the client must see exactly those fields (node's raw headers, in order).
 *
 * Runs are bounded (MESHCTL_FC_RUNS, default 60 connections) and seeded (MESHCTL_FC_SEED); a failure prints the
 * seed and path to replay it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import fc from 'fast-check';
import { HpackDecoder, HpackEncoder } from '../../src/http/h2/hpack.js';
import { SETTING, startRawServer, type RawConnection } from './h2-wire.js';

const SEED = Number(process.env.MESHCTL_FC_SEED ?? 20261207);
const RUNS = Number(process.env.MESHCTL_FC_RUNS ?? 60);

const TOKEN_CHARS = [..."abcdefghijklmnopqrstuvwxyz0123456789-!#$%&'*+.^_`|~"];
/** Field-value octets nghttp2 accepts (RFC 9113 §8.2.1): SP, HTAB, VCHAR, obs-text; not at either end: SP, HTAB. */
const VALUE_CHARS = [' ', '\t', ...Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i))].concat(
  Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i)),
);
/** Names neither side may send in HTTP/2, or that node or nghttp2 give meaning to (body length, single-value rules). */
const EXCLUDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host', 'http2-settings', 'content-length']);

const REQUEST_NAMES = ['user-agent', 'accept', 'accept-encoding', 'accept-language', 'cookie', 'authorization', 'content-type', 'cache-control', 'referer', 'x-forwarded-for', 'grpc-timeout', 'x-request-id'];
const RESPONSE_NAMES = ['content-type', 'server', 'date', 'cache-control', 'set-cookie', 'vary', 'etag', 'x-envoy-upstream-service-time', 'x-request-id', 'location', 'content-encoding', 'access-control-allow-origin', 'age', 'last-modified'];
const POOL = ['envoy', 'application/json', 'gzip, deflate, br', 'no-cache', 'text/html; charset=utf-8', '3', 'Mon, 07 Dec 2026 03:00:00 GMT', 'curl/8.5.0', '*/*', 'caf\u00e9'];

const trimWs = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '');
const chars = (unit: string[], min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...unit), minLength: min, maxLength: max });

/** Octets with 5- and 6-bit Huffman codes: strings mostly of these are Huffman-coded by both encoders. */
const SHORT_CODES = [...'012aceiost %-./3456789=ABCDEFGIMNOPUdfghlmnpru_:'];
/** Octets with long codes (up to 27 bits among obs-text), rare in a string so that it stays Huffman-coded. */
const LONG_CODES = ['\\', '^', '`', '{', '}', '<', '~', '|', ...Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i))];
/**
 * Control octets (28- and 30-bit codes): requests only. nghttp2 drops a received field whose value holds one
 * (RFC 9113 §8.2.1 leaves them invalid in HTTP), so responses cannot carry them; node's client sends them as given.
 */
const CONTROLS = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).filter((c) => !'\0\t\n\r'.includes(c)).concat('\x7f');

const valueOf = (rare: string[]): fc.Arbitrary<string> =>
  fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...POOL) },
      { weight: 3, arbitrary: chars(VALUE_CHARS, 0, 40) },
      {
        weight: 3,
        arbitrary: fc.string({
          unit: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...SHORT_CODES) }, { weight: 1, arbitrary: fc.constantFrom(...rare) }),
          minLength: 30,
          maxLength: 120,
        }),
      },
      { weight: 1, arbitrary: chars(VALUE_CHARS, 100, 3000) },
      { weight: 1, arbitrary: chars(['a', 'b', '0', ' ', '\u00ff'], 16000, 20000) }, // a block over one frame
    )
    .map(trimWs);

const fieldsOf = (common: string[], rare: string[]): fc.Arbitrary<[string, string][]> =>
  fc
    .uniqueArray(
      fc.tuple(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...common) }, { weight: 3, arbitrary: chars(TOKEN_CHARS, 1, 24) }), valueOf(rare)),
      { selector: (f) => f[0], maxLength: 14 },
    )
    .map((fs) => fs.filter(([n]) => !EXCLUDED.has(n)))
    // node's client refuses header blocks over 64 KiB; stay well under.
    .filter((fs) => fs.reduce((n, [a, b]) => n + a.length + b.length, 0) < 40000);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
  path: fc.oneof(fc.constantFrom('/', '/index.html', '/api/v1/items?page=2'), chars([...'abcXYZ019/._~%?=&-'], 0, 60).map((p) => '/' + p)),
  authority: fc.constantFrom('www.example.com', 'api.internal:8443', 'localhost'),
  fields: fieldsOf(REQUEST_NAMES, [...LONG_CODES, ...CONTROLS]),
});
const response = fc.record({
  status: fc.constantFrom('200', '201', '204', '302', '404', '500', '503'),
  fields: fieldsOf(RESPONSE_NAMES, LONG_CODES),
});
const tableSize = fc.constantFrom(4096, 0, 100, 256, 300, 1000, 65536);
const change = fc.option(fc.record({ after: fc.nat(7), size: tableSize }), { nil: null });

const connection = fc.record({
  exchanges: fc.array(fc.tuple(request, response), { minLength: 1, maxLength: 8 }),
  serverTableSize: tableSize,
  serverChange: change,
  clientTableSize: tableSize,
  clientChange: change,
  huffman: fc.boolean(),
});
type Connection = typeof connection extends fc.Arbitrary<infer T> ? T : never;

/** What the raw server saw on the current connection. */
interface Seen {
  requests: string[][];
  error: Error | null;
}

test('nghttp2 (node:http2 client) → HpackDecoder, and HpackEncoder → nghttp2, over random connections', { timeout: 600_000 }, async () => {
  let run: Connection | null = null;
  let seen: Seen = { requests: [], error: null };
  let failRequest: (err: Error) => void = () => {};
  /** Per connection: the decoder, the encoder, and the table sizes of our SETTINGS not yet ACKed, in order. */
  const state = new WeakMap<RawConnection['socket'], { dec: HpackDecoder; enc: HpackEncoder; unacked: number[] }>();
  const stateOf = (conn: RawConnection) => {
    let s = state.get(conn.socket);
    if (s === undefined) {
      // The first callback of a connection comes before any ACK: our first SETTINGS (the run's size) is unacked.
      s = { dec: new HpackDecoder(4096), enc: new HpackEncoder({ huffman: run!.huffman }), unacked: [run!.serverTableSize] };
      state.set(conn.socket, s);
    }
    return s;
  };

  const server = await startRawServer({
    get settings(): [number, number][] {
      return [[SETTING.HEADER_TABLE_SIZE, run!.serverTableSize]];
    },
    onPeerSettings(conn, params) {
      const size = params.get(SETTING.HEADER_TABLE_SIZE);
      if (size !== undefined) stateOf(conn).enc.setPeerMaxTableSize(size);
    },
    onSettingsAck(conn) {
      const s = stateOf(conn);
      const size = s.unacked.shift();
      assert.ok(size !== undefined, 'an ACK for SETTINGS we did not send');
      s.dec.setMaxTableSize(size);
    },
    onBlock(conn, stream, block) {
      const s = stateOf(conn);
      const out: string[] = [];
      const n = s.dec.decode(block, out, 1 << 20);
      assert.ok(n >= 0);
      const i = seen.requests.length;
      seen.requests.push(out.slice(0, 2 * n));
      const c = run!.serverChange;
      if (c !== null && c.after === i) {
        conn.sendSettings([[SETTING.HEADER_TABLE_SIZE, c.size]]);
        s.unacked.push(c.size);
      }
      const [, res] = run!.exchanges[i]!;
      const fields = [':status', res.status, ...res.fields.flat()];
      conn.sendHeaders(stream, s.enc.encode(fields, fields.length / 2), true);
    },
    onError(err) {
      seen.error = err;
      failRequest(err);
    },
  });

  try {
    await fc.assert(
      fc.asyncProperty(connection, async (c) => {
        run = c;
        seen = { requests: [], error: null };
        const client = http2.connect(`http://127.0.0.1:${server.port}`, { settings: { headerTableSize: c.clientTableSize } });
        client.on('error', () => {});
        try {
          for (const [i, [req, res]] of c.exchanges.entries()) {
            if (c.clientChange !== null && c.clientChange.after === i) client.settings({ headerTableSize: c.clientChange.size });
            const headers: http2.OutgoingHttpHeaders = { ':method': req.method, ':path': req.path, ':scheme': 'http', ':authority': req.authority };
            for (const [name, v] of req.fields) headers[name] = v;
            const stream = client.request(headers, { endStream: true });
            const raw = await new Promise<string[]>((resolve, reject) => {
              stream.on('response', ((_h: unknown, _f: unknown, rawHeaders: string[]) => resolve(rawHeaders)) as () => void);
              stream.on('error', reject);
              stream.on('close', () => reject(seen.error ?? new Error(`stream closed without a response (rst code ${stream.rstCode})`)));
              stream.setTimeout(10_000, () => reject(seen.error ?? new Error('no response in 10 s')));
              // The server failed (our decoder threw, or nghttp2 refused our block with GOAWAY, after which node's
              // session neither answers nor notices the server closing the socket): fail now.
              if (seen.error !== null) reject(seen.error);
              failRequest = reject;
            });
            stream.resume();
            // node writes pseudo-headers first, then the rest in the object's key order (integer-like names first).
            const sent = Object.keys(headers)
              .sort((a, b) => Number(b.startsWith(':')) - Number(a.startsWith(':')))
              .flatMap((k) => [k, String(headers[k])]);
            assert.deepEqual(seen.requests[i], sent, `request ${i}: what HpackDecoder read from nghttp2's block`);
            assert.deepEqual(raw, [':status', res.status, ...res.fields.flat()], `response ${i}: what nghttp2 read from HpackEncoder's block`);
          }
          assert.equal(seen.error, null);
        } finally {
          // destroy(), not close(): after a failed run a stream may never end, and close() would wait for it.
          if (!client.destroyed) await new Promise<void>((resolve) => client.once('close', resolve).destroy());
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  } finally {
    await server.close();
  }
});
