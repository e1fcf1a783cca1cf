/**
 * HPACK: ns per header block for the decoder (requests) and the encoder (responses). The request blocks are real
 * nghttp2 output: a node:http2 client (nghttp2, as curl and h2load use) sends each profile's request twice on one
 * connection to a raw server (test/http/h2-wire.ts) that keeps the HEADERS blocks. The first block of a connection
 * is literals, Huffman-coded, inserted into the table ("first": a fresh decoder each time); the second is what
 * every later request on the connection looks like ("repeat": mostly one-octet indexed fields, on a warm decoder).
 * Responses are encoded the same two ways, with Huffman coding on and off. Median of several runs.
 *
 *   npx tsc -p . && node dist/bench/hpack.js [--iterations 200000] [--runs 5] [--write]
 *
 * `--write` puts the table into docs/BENCHMARKS.md under `<!-- bench:hpack -->`.
 */
import http2 from 'node:http2';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { writeBenchSection } from './bench-doc.js';
import { HpackDecoder, HpackEncoder } from '../src/http/h2/hpack.js';
import { startRawServer } from '../test/http/h2-wire.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const ITERATIONS = Number(arg('iterations', '200000'));
const RUNS = Number(arg('runs', '5'));

const PROFILES: { name: string; headers: http2.OutgoingHttpHeaders }[] = [
  {
    name: 'curl GET',
    headers: { ':method': 'GET', ':scheme': 'https', ':authority': 'api.example.com', ':path': '/v1/items?limit=20', 'user-agent': 'curl/8.5.0', accept: '*/*' },
  },
  {
    name: 'h2load GET',
    headers: { ':method': 'GET', ':scheme': 'http', ':authority': '127.0.0.1:10000', ':path': '/', 'user-agent': 'h2load nghttp2/1.59.0', 'accept-encoding': 'gzip, deflate' },
  },
  {
    name: 'gRPC unary',
    headers: {
      ':method': 'POST',
      ':scheme': 'http',
      ':authority': 'greeter.default.svc.cluster.local:50051',
      ':path': '/helloworld.Greeter/SayHello',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '999952u',
      'grpc-accept-encoding': 'identity,deflate,gzip',
      'user-agent': 'grpc-go/1.60.1',
    },
  },
];

const RESPONSE = [
  ':status', '200',
  'content-type', 'application/json',
  'content-length', '1234',
  'date', 'Mon, 07 Dec 2026 04:00:00 GMT',
  'server', 'envoy',
  'x-envoy-upstream-service-time', '3',
  'vary', 'accept-encoding',
];

/** Each profile's first and second request block, as nghttp2 wrote them. */
async function capture(headers: http2.OutgoingHttpHeaders): Promise<[Buffer, Buffer]> {
  const blocks: Buffer[] = [];
  const reply = new HpackEncoder();
  const server = await startRawServer({
    onBlock(conn, stream, block) {
      blocks.push(Buffer.from(block));
      conn.sendHeaders(stream, reply.encode([':status', '200'], 1), true);
    },
  });
  const client = http2.connect(`http://127.0.0.1:${server.port}`);
  for (let i = 0; i < 2; i++) {
    const s = client.request(headers, { endStream: true });
    await new Promise<void>((resolve, reject) => {
      s.on('response', () => resolve());
      s.on('error', reject);
    });
    s.resume();
  }
  await new Promise<void>((resolve) => client.once('close', resolve).destroy());
  await server.close();
  return [blocks[0]!, blocks[1]!];
}

/** Seconds for `n` calls of `f`. */
function time(n: number, f: () => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function measure(f: () => void): number {
  time(Math.min(ITERATIONS, 20000), f); // warm-up: the JIT sees every path
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(time(ITERATIONS, f));
  return (median(runs) / ITERATIONS) * 1e9;
}

const rows: string[] = [];
const out: string[] = [];
let sink = 0;
for (const p of PROFILES) {
  const [first, repeat] = await capture(p.headers);
  const fields = Object.keys(p.headers).length;
  const firstNs = measure(() => {
    sink += new HpackDecoder().decode(first, out, 65536);
  });
  const warm = new HpackDecoder();
  warm.decode(first, out, 65536);
  const repeatNs = measure(() => {
    sink += warm.decode(repeat, out, 65536);
  });
  rows.push(`| decode ${p.name}, first on the connection (${fields} fields) | ${first.length} B | ${firstNs.toFixed(0)} |`);
  rows.push(`| decode ${p.name}, repeat | ${repeat.length} B | ${repeatNs.toFixed(0)} |`);
}
for (const huffman of [true, false]) {
  const n = RESPONSE.length / 2;
  const firstLen = new HpackEncoder({ huffman }).encode(RESPONSE, n).length;
  const firstNs = measure(() => {
    sink += new HpackEncoder({ huffman }).encode(RESPONSE, n).length;
  });
  const warm = new HpackEncoder({ huffman });
  warm.encode(RESPONSE, n);
  const repeatLen = warm.encode(RESPONSE, n).length;
  const repeatNs = measure(() => {
    sink += warm.encode(RESPONSE, n).length;
  });
  const h = huffman ? 'Huffman' : 'raw';
  rows.push(`| encode response (${n} fields), first, ${h} | ${firstLen} B | ${firstNs.toFixed(0)} |`);
  rows.push(`| encode response, repeat, ${h} | ${repeatLen} B | ${repeatNs.toFixed(0)} |`);
}
if (sink === 0) console.log('');

const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
const body = [
  `Command: \`node dist/bench/hpack.js --iterations ${ITERATIONS} --runs ${RUNS}\` (median of ${RUNS} runs after a warm-up; Node`,
  `${process.version}, nghttp2 ${process.versions.nghttp2} writing the request blocks; ${when} UTC, load average`,
  `${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores). "first" is a connection's first block (a fresh decoder or`,
  'encoder each time: literals, inserted into the table); "repeat" is every later one (a warm table). The response is',
  '`:status` 200, content-type, content-length, date, server, x-envoy-upstream-service-time and vary.',
  '',
  '| block | size | ns per block |',
  '| --- | ---: | ---: |',
  ...rows,
].join('\n');
console.log(body);
if (process.argv.includes('--write')) writeBenchSection('hpack', body, '## HPACK (`bench/hpack.ts`)');
