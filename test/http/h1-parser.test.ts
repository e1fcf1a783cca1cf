/**
 * H1Parser on its own: every refusal with Envoy's status and details, the same result whatever the split of the
 * input, pipelining with pause and resume, where an upgrade stops, chunked bodies with trailers, interim and
 * bodiless responses, a body read until close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H1Parser } from '../../src/http/h1/parser.js';
import { DEFAULT_LIMITS, Recorder, feed, parse } from './h1-recorder.js';

const GET = 'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n';

test('a GET request: method, target, version, headers as written, trimmed values', () => {
  const r = parse('request', 'GET /a?b=c HTTP/1.1\r\nHost:example.com \r\nX-Mixed-Case: \t v  1 \t\r\n\r\n');
  assert.equal(r.error, null);
  assert.equal(r.messages.length, 1);
  const { head, body, complete } = r.messages[0];
  assert.equal(head.method, 'GET');
  assert.equal(head.target, '/a?b=c');
  assert.equal(head.versionMinor, 1);
  assert.deepEqual(head.rawHeaders, ['Host', 'example.com', 'X-Mixed-Case', 'v  1']);
  assert.equal(head.contentLength, -1);
  assert.equal(head.chunked, false);
  assert.equal(head.keepAlive, true);
  assert.equal(head.upgrade, false);
  assert.equal(body, '');
  assert.equal(complete, true);
});

/** [name, input, status, details] */
const REFUSALS: [string, string, number, string][] = [
  ['CL with TE', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'http1.content_length_and_chunked_not_allowed'],
  ['TE with CL', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', 400, 'http1.content_length_and_chunked_not_allowed'],
  ['differing CLs', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400, 'http1.codec_error'],
  ['CL list', 'POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc', 400, 'http1.codec_error'],
  ['non-digit CL', 'POST / HTTP/1.1\r\nContent-Length: 0x3\r\n\r\nabc', 400, 'http1.codec_error'],
  ['signed CL', 'POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc', 400, 'http1.codec_error'],
  ['empty CL', 'POST / HTTP/1.1\r\nContent-Length:\r\n\r\n', 400, 'http1.codec_error'],
  ['huge CL', 'POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n', 400, 'http1.codec_error'],
  ['TE gzip', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501, 'http1.invalid_transfer_encoding'],
  ['TE gzip, chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501, 'http1.invalid_transfer_encoding'],
  ['TE chunked twice', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501, 'http1.invalid_transfer_encoding'],
  ['TE on CONNECT', 'CONNECT a:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', 501, 'http1.invalid_transfer_encoding'],
  ['CONNECT with a body', 'CONNECT a:443 HTTP/1.1\r\nContent-Length: 2\r\n\r\nab', 400, 'http1.body_disallowed'],
  ['obs-fold', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n', 400, 'http1.codec_error'],
  ['obs-fold with HTAB', 'GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n', 400, 'http1.codec_error'],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400, 'http1.codec_error'],
  ['HTAB before colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n', 400, 'http1.codec_error'],
  ['no colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', 400, 'http1.codec_error'],
  ['empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 400, 'http1.codec_error'],
  ['bad name char', 'GET / HTTP/1.1\r\nX(y): a\r\n\r\n', 400, 'http1.codec_error'],
  ['non-ASCII name', 'GET / HTTP/1.1\r\nX\u00e9: a\r\n\r\n', 400, 'http1.codec_error'],
  ['bad method char', 'G(T / HTTP/1.1\r\n\r\n', 400, 'http1.codec_error'],
  ['NUL in value', 'GET / HTTP/1.1\r\nA: b\u0000c\r\n\r\n', 400, 'http1.invalid_characters'],
  ['control in value', 'GET / HTTP/1.1\r\nA: \u0001\r\n\r\n', 400, 'http1.invalid_characters'],
  ['DEL in value', 'GET / HTTP/1.1\r\nA: b\u007f\r\n\r\n', 400, 'http1.invalid_characters'],
  ['bare CR in value', 'GET / HTTP/1.1\r\nA: b\rc\r\n\r\n', 400, 'http1.codec_error'],
  ['bare CR in start line', 'GET /\r HTTP/1.1\r\n\r\n', 400, 'http1.codec_error'],
  ['bare LF after start line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400, 'http1.codec_error'],
  ['bare LF after a field', 'GET / HTTP/1.1\r\nHost: a\n\r\n', 400, 'http1.codec_error'],
  ['bare LF as the empty line', 'GET / HTTP/1.1\r\nHost: a\r\n\n', 400, 'http1.codec_error'],
  ['HTTP/0.9 request', 'GET /\r\n\r\n', 400, 'http1.codec_error'],
  ['HTTP/2.0 in HTTP/1', 'GET / HTTP/2.0\r\n\r\n', 400, 'http1.codec_error'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 400, 'http1.codec_error'],
  ['lowercase version', 'GET / http/1.1\r\n\r\n', 400, 'http1.codec_error'],
  ['two spaces', 'GET  / HTTP/1.1\r\n\r\n', 400, 'http1.codec_error'],
  ['space after version', 'GET / HTTP/1.1 \r\n\r\n', 400, 'http1.codec_error'],
  ['space in target', 'GET /a b HTTP/1.1\r\n\r\n', 400, 'http1.codec_error'],
  ['non-ASCII target', 'GET /\u00e9 HTTP/1.1\r\n\r\n', 400, 'http1.codec_error'],
  ['target without a form', 'GET a HTTP/1.1\r\n\r\n', 400, 'http1.invalid_url'],
  ['* on GET', 'GET * HTTP/1.1\r\n\r\n', 400, 'http1.invalid_url'],
  ['CONNECT to a path', 'CONNECT /x HTTP/1.1\r\n\r\n', 400, 'http1.invalid_url'],
  ['scheme without authority', 'GET http:// HTTP/1.1\r\n\r\n', 400, 'http1.invalid_url'],
  ['TLS hello on a plaintext port', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003', 400, 'http1.codec_error'],
  ['chunk size not hex', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n', 400, 'http1.codec_error'],
  ['chunk size with space', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n', 400, 'http1.codec_error'],
  ['chunk too large', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n', 400, 'http1.codec_error'],
  ['chunk longer than size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxx\r\n0\r\n\r\n', 400, 'http1.codec_error'],
  ['bare CR in chunk ext', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a\rb\r\nx\r\n0\r\n\r\n', 400, 'http1.codec_error'],
  ['bare LF after chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n', 400, 'http1.codec_error'],
  ['bare CR starting a field line', 'GET / HTTP/1.1\r\nA: b\r\n\rHost: c\r\n\r\n', 400, 'http1.codec_error'],
  ['bad trailer', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA : b\r\n\r\n', 400, 'http1.codec_error'],
];

for (const [name, input, status, details] of REFUSALS) {
  test(`refused: ${name} → ${status} ${details}`, () => {
    const r = parse('request', input);
    assert.equal(r.consumed, -1, 'execute returns -1');
    assert.equal(r.recorder.errors, 1, 'onError once');
    assert.equal(r.error?.status, status, r.error?.reason);
    assert.equal(r.error?.details, details, r.error?.reason);
    assert.ok(r.error?.reason);
    // The parser stays refused.
    assert.equal(r.parser.execute(Buffer.from(GET)), -1);
    assert.equal(r.recorder.errors, 1);
  });
}

test('response refusals: bad status line, bad status code, TE not chunked, no framing conflicts', () => {
  for (const [input, details] of [
    ['HTTP/1.1 20 OK\r\n\r\n', 'http1.codec_error'],
    ['HTTP/1.1 099 X\r\n\r\n', 'http1.codec_error'],
    ['HTTP/1.1  200 OK\r\n\r\n', 'http1.codec_error'],
    ['HTTP/1.1 200 O\rK\r\n\r\n', 'http1.codec_error'],
    ['HTTP/1.1 200 OK\nX: y\r\n\r\n', 'http1.codec_error'],
    ['HTTP/1.1 200 OK\r\nX: y\nZ: w\r\n\r\n', 'http1.codec_error'],
    ['HTTX/1.1 200 OK\r\n', 'http1.codec_error'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'http1.invalid_transfer_encoding'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'http1.content_length_and_chunked_not_allowed'],
  ] as const) {
    const r = parse('response', input);
    assert.equal(r.error?.details, details, JSON.stringify(input));
  }
});

test('limits: a head over maxHeadBytes is 431 headers_too_large, whole or split; at the limit it passes', () => {
  const limits = { maxHeadBytes: 200, maxHeaders: 100 };
  const base = 'GET / HTTP/1.1\r\nX: ';
  const exact = base + 'v'.repeat(200 - base.length - 4) + '\r\n\r\n';
  assert.equal(exact.length, 200);
  assert.equal(parse('request', exact, { limits }).error, null);
  const over = base + 'v'.repeat(200 - base.length - 3) + '\r\n\r\n';
  for (const cuts of [[], [10], [150], [199], [200]]) {
    const r = parse('request', over, { limits, cuts });
    assert.equal(r.error?.status, 431, `cuts ${cuts}`);
    assert.equal(r.error?.details, 'http1.headers_too_large');
  }
  // No end in sight: refused once the limit is passed, without waiting for more.
  const r = parse('request', base + 'v'.repeat(500), { limits, cuts: [100, 300] });
  assert.equal(r.error?.details, 'http1.headers_too_large');
});

test('limits: more than maxHeaders fields is 431 too_many_headers; exactly maxHeaders passes; trailers too', () => {
  const limits = { maxHeadBytes: 60 * 1024, maxHeaders: 5 };
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `h${i}: v\r\n`).join('');
  assert.equal(parse('request', `GET / HTTP/1.1\r\n${fields(5)}\r\n`, { limits }).error, null);
  const r = parse('request', `GET / HTTP/1.1\r\n${fields(6)}\r\n`, { limits });
  assert.equal(r.error?.status, 431);
  assert.equal(r.error?.details, 'http1.too_many_headers');
  const chunked = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n';
  assert.equal(parse('request', `${chunked}${fields(5)}\r\n`, { limits }).error, null);
  assert.equal(parse('request', `${chunked}${fields(6)}\r\n`, { limits }).error?.details, 'http1.too_many_headers');
});

test('a chunk line longer than the bound is refused (extensions are tolerated but bounded)', () => {
  const ok = parse('request', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(100)}\r\nx\r\n0\r\n\r\n`);
  assert.equal(ok.error, null);
  assert.equal(ok.messages[0].body, 'x');
  const long = parse('request', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(5000)}`, {
    cuts: [60, 1000],
  });
  assert.equal(long.error?.details, 'http1.codec_error');
});

/** A normalised view of an outcome, to compare splits. */
function view(r: ReturnType<typeof parse>): unknown {
  return { messages: r.messages, error: r.error, consumed: r.consumed };
}

const SPLIT_CASES: [string, 'request' | 'response', string, boolean][] = [
  ['two pipelined requests, one with a body', 'request', `${GET}POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello`, false],
  [
    'chunked with extension and trailers',
    'request',
    'POST /c HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nT1: a\r\nT2:  b \r\n\r\n',
    false,
  ],
  ['interim then final response', 'response', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', false],
  ['response read until close', 'response', 'HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of this', true],
  ['a refused request', 'request', `${GET}GET / HTTP/1.1\r\nBad Name: x\r\n\r\n`, false],
  ['leading empty lines', 'request', `\r\n\r\n${GET}\r\n${GET}`, false],
];

for (const [name, kind, input, eof] of SPLIT_CASES) {
  test(`the same result at every split: ${name}`, () => {
    const whole = view(parse(kind, input, { eof }));
    for (let i = 1; i < input.length; i++) {
      assert.deepEqual(view(parse(kind, input, { cuts: [i], eof })), whole, `cut at ${i}`);
    }
    // And one byte at a time.
    const bytes = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(view(parse(kind, input, { cuts: bytes, eof })), whole, 'byte by byte');
  });
}

test('the split cases parse as expected', () => {
  const [p1, p2] = parse('request', SPLIT_CASES[0][2]).messages;
  assert.equal(p1.head.target, '/a?b=c');
  assert.equal(p2.head.method, 'POST');
  assert.equal(p2.head.contentLength, 5);
  assert.equal(p2.body, 'hello');
  const c = parse('request', SPLIT_CASES[1][2]).messages[0];
  assert.equal(c.head.chunked, true);
  assert.equal(c.body, 'helloabcdefghijklmnopqrstuvwxyz');
  assert.deepEqual(c.trailers, ['T1', 'a', 'T2', 'b']);
  const refused = parse('request', SPLIT_CASES[4][2]);
  assert.equal(refused.messages.length, 1);
  assert.equal(refused.error?.details, 'http1.codec_error');
  assert.equal(parse('request', SPLIT_CASES[5][2]).messages.length, 2);
});

test('body bytes are subarrays of the input, not copies', () => {
  const input = Buffer.from('POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc', 'latin1');
  const seen: Buffer[] = [];
  const rec = new Recorder();
  const p = new H1Parser('request', DEFAULT_LIMITS, {
    onHead: (h) => rec.onHead(h),
    onBody: (b) => {
      seen.push(b);
      return false;
    },
    onComplete: (t) => rec.onComplete(t),
    onError: (e) => rec.onError(e),
  });
  assert.equal(p.execute(input), input.length);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].buffer, input.buffer);
  assert.equal(seen[0].byteOffset, input.byteOffset + input.length - 3);
});

test('pipelining: a pause in onComplete returns at the next request, which a re-feed parses', () => {
  const input = Buffer.from(`${GET}POST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi${GET}`, 'latin1');
  const rec = new Recorder();
  rec.pauseOn.add('complete');
  const p = new H1Parser('request', DEFAULT_LIMITS, rec);
  const n1 = p.execute(input);
  assert.equal(n1, GET.length);
  assert.equal(rec.messages.length, 1);
  const rest = input.subarray(n1);
  const n2 = p.execute(rest);
  assert.equal(rec.messages.length, 2);
  assert.equal(rec.messages[1].body, 'hi');
  const n3 = p.execute(rest.subarray(n2));
  assert.equal(n3, GET.length);
  assert.equal(rec.messages.length, 3);
  assert.equal(rec.pauses, 3);
});

test('a pause in onHead or onBody returns right after the event; a bodiless message completes first', () => {
  const input = `POST /p HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd${GET}`;
  const r = parse('request', input, { pauseOn: ['head', 'body'], cuts: [42] });
  assert.equal(r.error, null);
  assert.equal(r.messages.length, 2);
  assert.equal(r.messages[0].body, 'abcd');
  assert.ok(r.messages.every((m) => m.complete));
  // Pausing at the head of a GET: onComplete still comes in the same execute (the message is whole).
  const rec = new Recorder();
  rec.pauseOn.add('head');
  const p = new H1Parser('request', DEFAULT_LIMITS, rec);
  assert.equal(p.execute(Buffer.from(GET + GET)), GET.length);
  assert.equal(rec.messages[0].complete, true);
});

test('upgrade: the parser stops after the head and refuses input until reset()', () => {
  const head = 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n';
  const input = Buffer.from(`${head}\u0081\u0005hello`, 'latin1');
  const rec = new Recorder();
  const p = new H1Parser('request', DEFAULT_LIMITS, rec);
  assert.equal(p.execute(input), head.length);
  assert.equal(rec.messages[0].head.upgrade, true);
  assert.equal(rec.messages[0].complete, false);
  assert.equal(p.execute(input.subarray(head.length)), 0);
  p.reset();
  assert.equal(p.execute(Buffer.from(GET)), GET.length);
  assert.equal(rec.messages.length, 2);
  // Split inside the head: still stops right after it.
  const r = parse('request', input, { cuts: [20, head.length - 1] });
  assert.equal(r.consumed, head.length);
});

test('CONNECT is a tunnel; Upgrade without Connection: upgrade, or h2c, is not', () => {
  const c = parse('request', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\u0016\u0003');
  assert.equal(c.messages[0].head.upgrade, true);
  assert.equal(c.messages[0].head.target, 'example.com:443');
  assert.equal(c.consumed, c.parser ? 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'.length : 0);
  const c0 = parse('request', 'CONNECT a:1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n');
  assert.equal(c0.messages[0].head.upgrade, true);
  const plain = parse('request', 'GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n');
  assert.equal(plain.messages[0].head.upgrade, false);
  assert.equal(plain.messages[0].complete, true);
  const h2c = parse('request', 'GET / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
  assert.equal(h2c.messages[0].head.upgrade, false);
  assert.equal(h2c.messages[0].complete, true);
});

test('request-target forms: origin, absolute, authority (CONNECT), * (OPTIONS)', () => {
  for (const line of ['GET /a?b HTTP/1.1', 'GET http://h:80/a HTTP/1.1', 'GET h2c+x.y-z://h HTTP/1.1', 'OPTIONS * HTTP/1.1', 'CONNECT [::1]:443 HTTP/1.1']) {
    const r = parse('request', `${line}\r\n\r\n`);
    assert.equal(r.error, null, line);
    assert.equal(r.messages[0].head.target, line.split(' ')[1]);
  }
});

test('keep-alive, close and Expect from the headers', () => {
  const ka = (s: string) => parse('request', s).messages[0].head.keepAlive;
  assert.equal(ka('GET / HTTP/1.1\r\n\r\n'), true);
  assert.equal(ka('GET / HTTP/1.1\r\nConnection: Close\r\n\r\n'), false);
  assert.equal(ka('GET / HTTP/1.1\r\nConnection: foo,  close \r\n\r\n'), false);
  assert.equal(ka('GET / HTTP/1.1\r\nConnection: closed\r\n\r\n'), true);
  assert.equal(ka('GET / HTTP/1.0\r\n\r\n'), false);
  assert.equal(ka('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'), true);
  assert.equal(ka('GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n'), false);
  const ec = (s: string) => parse('request', s).messages[0].head.expectContinue;
  assert.equal(ec('POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx'), true);
  assert.equal(ec('POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx'), false);
});

test('Content-Length: a repeat of the same value is refused too; leading zeros are digits', () => {
  const r = parse('request', 'POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc');
  assert.equal(r.error?.details, 'http1.codec_error');
  assert.equal(parse('request', 'POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n1234567').messages[0].body, '1234567');
});

test('a request without Content-Length or Transfer-Encoding has no body', () => {
  const r = parse('request', 'POST / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n');
  assert.equal(r.messages.length, 2);
  assert.equal(r.messages[0].body, '');
});

test('responses: 1xx are interim, 101 is a tunnel, 204/304 and HEAD answers have no body', () => {
  const interim = parse('response', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
  assert.equal(interim.messages.length, 1);
  assert.deepEqual(interim.messages[0].interim.map((h) => h.status), [100, 103]);
  assert.equal(interim.messages[0].head.reason, 'OK');
  assert.equal(interim.messages[0].body, 'x');

  const sw = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
  const up = parse('response', `${sw}frames`);
  assert.equal(up.consumed, sw.length);
  assert.equal(up.messages[0].head.upgrade, true);

  // 304 may carry the Content-Length of the representation; 204 only 0 (Envoy's client codec).
  for (const [status, cl] of [[204, 0], [304, 10]]) {
    const r = parse('response', `HTTP/1.1 ${status} X\r\nContent-Length: ${cl}\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`);
    assert.equal(r.messages.length, 2, `${status}`);
    assert.equal(r.messages[0].body, '');
  }
  // HEAD: the flag holds for the next final response only, through interim ones.
  const head = parse('response', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: x\r\n\r\n', { headRequest: true });
  // Framing fields are still judged on a HEAD answer (Envoy refuses CL with TE whatever the method).
  assert.equal(head.error?.details, 'http1.content_length_and_chunked_not_allowed');
  const ok = parse('response', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { headRequest: true });
  assert.equal(ok.messages.length, 2);
  assert.equal(ok.messages[0].body, '');
  assert.equal(ok.messages[1].body, 'ok');
  // A status line without a reason, with or without its SP.
  assert.equal(parse('response', 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n').messages[0].head.status, 200);
  assert.equal(parse('response', 'HTTP/1.0 404 \r\nContent-Length: 0\r\n\r\n').messages[0].head.reason, '');
});

test('1xx and 204 responses with framing fields are refused as Envoy\'s client codec does; CONNECT answers', () => {
  for (const [input, details] of [
    ['HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', 'http1.content_length_not_allowed'],
    ['HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\n', 'http1.content_length_not_allowed'],
    ['HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n', 'http1.transfer_encoding_not_allowed'],
    ['HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n', 'http1.transfer_encoding_not_allowed'],
    // Transfer-Encoding other than chunked is judged first, as in Envoy (501).
    ['HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n', 'http1.invalid_transfer_encoding'],
  ] as const) {
    assert.equal(parse('response', input).error?.details, details, input);
  }
  assert.equal(parse('response', 'HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n').error, null);

  // A 2xx answer to CONNECT is a tunnel; another status is an ordinary response, and the flag is spent.
  const est = 'HTTP/1.1 200 Connection Established\r\n\r\n';
  const rec = new Recorder();
  const p = new H1Parser('response', DEFAULT_LIMITS, rec);
  p.connectForNextResponse();
  assert.equal(p.execute(Buffer.from(`HTTP/1.1 100 Continue\r\n\r\n${est}\u0016\u0003`, 'latin1')), 25 + est.length);
  assert.equal(rec.messages[0].head.upgrade, true);
  assert.equal(rec.messages[0].complete, false);
  p.reset();
  p.connectForNextResponse();
  const two = Buffer.from('HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\nnoHTTP/1.1 200 OK\r\n\r\nrest');
  assert.equal(p.execute(two), two.length);
  assert.equal(rec.messages[1].head.upgrade, false);
  assert.equal(rec.messages[1].body, 'no');
  assert.equal(rec.messages[2].head.upgrade, false, 'the flag was for one response');
  assert.equal(rec.messages[2].body, 'rest');
});

test('a response without framing is read until close; finish() completes it', () => {
  const r = parse('response', 'HTTP/1.1 200 OK\r\n\r\nabc', { cuts: [20] });
  assert.equal(r.messages[0].head.keepAlive, false);
  assert.equal(r.messages[0].complete, false);
  assert.equal(r.messages[0].body, 'abc');
  r.parser.execute(Buffer.from('\r\n\r\nmore'));
  r.parser.finish();
  assert.equal(r.messages[0].complete, true);
  assert.equal(r.messages[0].body, 'abc\r\n\r\nmore');
  assert.equal(r.error, null);
});

test('finish() mid-message is an error; between messages it is not', () => {
  for (const [kind, input] of [
    ['request', 'GET / HTTP/1.1\r\nHost'],
    ['request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab'],
    ['request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab'],
    ['response', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'],
  ] as const) {
    const r = parse(kind, input, { eof: true });
    assert.equal(r.recorder.error?.details, 'http1.codec_error', input);
  }
  const fine = parse('request', `${GET}\r\n`, { eof: true });
  assert.equal(fine.recorder.error, null);
  assert.equal(fine.messages.length, 1);
});

test('a head split across Buffers, near the limit, then a body: the body still arrives as subarrays of the input', () => {
  const big = 'X-Big: ' + 'b'.repeat(60 * 1024 - 200) + '\r\n';
  const head = `POST /up HTTP/1.1\r\n${big}Content-Length: 10\r\n\r\n`;
  assert.ok(head.length < 60 * 1024);
  const second = Buffer.from(head.slice(30000) + '0123456789', 'latin1');
  const seen: Buffer[] = [];
  const rec = new Recorder();
  const p = new H1Parser('request', DEFAULT_LIMITS, {
    onHead: (h) => rec.onHead(h),
    onBody: (b) => {
      seen.push(b);
      return rec.onBody(b);
    },
    onComplete: (t) => rec.onComplete(t),
    onError: (e) => rec.onError(e),
  });
  assert.equal(p.execute(Buffer.from(head.slice(0, 100), 'latin1')), 100);
  assert.equal(p.execute(Buffer.from(head.slice(100, 30000), 'latin1')), 30000 - 100);
  assert.equal(p.execute(second), second.length);
  assert.equal(rec.error, null);
  assert.equal(rec.messages[0].head.rawHeaders[1].length, 60 * 1024 - 200);
  assert.equal(rec.messages[0].body, '0123456789');
  assert.equal(seen[0].buffer, second.buffer);
});

test('an empty Buffer is consumed as nothing', () => {
  const p = new H1Parser('request', DEFAULT_LIMITS, new Recorder());
  assert.equal(p.execute(Buffer.alloc(0)), 0);
  assert.equal(p.execute(Buffer.from(GET)), GET.length);
});

test('a head fed one byte at a time is parsed once, the same as whole', () => {
  const headers = Array.from({ length: 50 }, (_, i) => `X-Header-${i}: value-${i}-${'v'.repeat(i)}\r\n`).join('');
  const input = `GET /long HTTP/1.1\r\n${headers}\r\n`;
  const whole = parse('request', input);
  const bytes = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
  const split = parse('request', input, { cuts: bytes });
  assert.deepEqual(split.messages, whole.messages);
  assert.equal(whole.messages[0].head.rawHeaders.length, 100);
});

test('feed() stops at a tunnel and at an error', () => {
  const rec = new Recorder();
  const p = new H1Parser('request', DEFAULT_LIMITS, rec);
  assert.equal(feed(p, [Buffer.from('CONNECT a:1 HTTP/1.1\r\n\r\nxx')]), 'CONNECT a:1 HTTP/1.1\r\n\r\n'.length);
});
