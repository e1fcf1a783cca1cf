/**
 * H1Parser against node's llhttp (the reference of test/http/h1-differential.test.ts) on the same inputs: a wrk GET
 * (wrk sends only Host), a 20-header browser request, and a chunked response (four 1 KiB chunks). Each message is
 * one execute() call on its own Buffer, as when every read brings one request; both parsers deliver every header
 * name and value to JavaScript as strings and discard them. Median of several runs, ours and llhttp interleaved.
 *
 *   npx tsc -p . && node dist/bench/h1-parser.js [--messages 200000] [--runs 5] [--write]
 *
 * `--write` puts the table into docs/BENCHMARKS.md under `<!-- bench:h1-parser -->`.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { writeBenchSection } from './bench-doc.js';
import { H1Parser } from '../src/http/h1/parser.js';
import type { H1Handler, H1Kind } from '../src/http/h1/types.js';
import { LlhttpReference } from '../test/http/llhttp-reference.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const MESSAGES = Number(arg('messages', '200000'));
const RUNS = Number(arg('runs', '5'));

const WRK_GET = 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n';

const BROWSER_GET = [
  'GET /assets/app.5f3c2a.js?v=20261207 HTTP/1.1',
  'Host: www.example.com',
  'Connection: keep-alive',
  'sec-ch-ua: "Chromium";v="131", "Not_A Brand";v="24"',
  'sec-ch-ua-mobile: ?0',
  'sec-ch-ua-platform: "Linux"',
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Accept: */*',
  'Sec-Fetch-Site: same-origin',
  'Sec-Fetch-Mode: no-cors',
  'Sec-Fetch-Dest: script',
  'Referer: https://www.example.com/products/widgets?page=2',
  'Accept-Encoding: gzip, deflate, br, zstd',
  'Accept-Language: en-GB,en;q=0.9,de;q=0.8',
  'Cookie: session=3b2f9a7c1e; theme=dark; _ga=GA1.2.123456789.1700000000; consent=yes',
  'If-None-Match: W/"5f3c2a-19ab"',
  'If-Modified-Since: Sun, 06 Dec 2026 10:00:00 GMT',
  'Cache-Control: max-age=0',
  'Priority: u=1',
  'DNT: 1',
  'X-Requested-With: XMLHttpRequest',
].join('\r\n') + '\r\n\r\n';

const CHUNK = 'x'.repeat(1024);
const CHUNKED_RESPONSE =
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 07 Dec 2026 01:00:00 GMT\r\nServer: upstream\r\n' +
  'Transfer-Encoding: chunked\r\n\r\n' +
  `400\r\n${CHUNK}\r\n`.repeat(4) +
  '0\r\n\r\n';

const INPUTS: { name: string; kind: H1Kind; text: string }[] = [
  { name: 'wrk GET (1 header)', kind: 'request', text: WRK_GET },
  { name: 'browser GET (20 headers)', kind: 'request', text: BROWSER_GET },
  { name: 'chunked response (4 × 1 KiB)', kind: 'response', text: CHUNKED_RESPONSE },
];

/** Runs `feed` over `messages` Buffers; returns seconds. */
function time(feed: (b: Buffer) => void, bufs: Buffer[]): number {
  const t0 = performance.now();
  for (const b of bufs) feed(b);
  return (performance.now() - t0) / 1000;
}

function ours(kind: H1Kind): (b: Buffer) => void {
  let heads = 0;
  const handler: H1Handler = {
    onHead: () => {
      heads++;
    },
    onBody: () => {},
    onComplete: () => {},
    onError: (e) => {
      throw new Error(`H1Parser refused the bench input: ${e.reason}`);
    },
  };
  const p = new H1Parser(kind, { maxHeadBytes: 60 * 1024, maxHeaders: 100 }, handler);
  return (b) => {
    if (p.execute(b) !== b.length) throw new Error('H1Parser did not consume the input');
  };
}

function reference(kind: H1Kind): (b: Buffer) => void {
  const r = new LlhttpReference(kind, { quiet: true });
  return (b) => {
    if (!r.execute(b)) throw new Error(`llhttp refused the bench input: ${JSON.stringify(r.outcome().error)}`);
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const rows: string[] = [];
for (const input of INPUTS) {
  // Distinct Buffers, as reads bring them (one shared Buffer would stay hot in cache and in V8's inline caches).
  const bufs = Array.from({ length: MESSAGES }, () => Buffer.from(input.text, 'latin1'));
  const bytes = input.text.length;
  // Warm-up: both JITs see every path.
  time(ours(input.kind), bufs.slice(0, 20000));
  time(reference(input.kind), bufs.slice(0, 20000));
  const a: number[] = [];
  const b: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    a.push(time(ours(input.kind), bufs));
    b.push(time(reference(input.kind), bufs));
  }
  const ta = median(a);
  const tb = median(b);
  rows.push(
    `| ${input.name} | ${bytes} B | ${fmt(MESSAGES / ta)} | ${(MESSAGES * bytes / ta / 1e6).toFixed(0)} | ${fmt(MESSAGES / tb)} | ${(MESSAGES * bytes / tb / 1e6).toFixed(0)} | ${(tb / ta).toFixed(2)}× |`,
  );
}

const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
const body = [
  `Command: \`node dist/bench/h1-parser.js --messages ${MESSAGES} --runs ${RUNS}\` (one message per execute() call, each on its own`,
  `Buffer; median of ${RUNS} runs, ours and llhttp interleaved, after a warm-up; Node ${process.version}, llhttp ${process.versions.llhttp},`,
  `${when} UTC, load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores). llhttp is node's own parser through`,
  '`_http_common`, delivering header names and values to JavaScript as node\'s http server does.',
  '',
  '| input | size | H1Parser messages/s | H1Parser MB/s | llhttp messages/s | llhttp MB/s | H1Parser vs llhttp |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
].join('\n');
console.log(body);
if (process.argv.includes('--write')) writeBenchSection('h1-parser', body, '## HTTP/1.1 parser (`bench/h1-parser.ts`)');
