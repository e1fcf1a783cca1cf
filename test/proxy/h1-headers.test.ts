/**
 * The header object meshctl's HTTP/1.1 codec gives the engine is node's shape: the same raw header lists sent to a
 * node HTTP server, whose `req.headers` is compared with `headersOf(req.rawHeaders)` (duplicates kept, dropped or
 * joined as node does; set-cookie an array; cookie joined with '; ').
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { headersOf } from '../../src/proxy/h1-request.js';

const CASES: string[][] = [
  ['Host', 'x', 'X-A', '1', 'x-a', '2', 'X-A', '3'],
  ['Host', 'x', 'Host', 'y', 'Content-Type', 'text/plain', 'content-type', 'application/json'],
  ['Host', 'x', 'Cookie', 'a=1', 'cookie', 'b=2'],
  ['Host', 'x', 'Set-Cookie', 'a=1', 'SET-COOKIE', 'b=2'],
  ['Host', 'x', 'User-Agent', 'one', 'User-Agent', 'two', 'Authorization', 'A', 'authorization', 'B', 'Referer', 'r1', 'referer', 'r2'],
  ['Host', 'x', 'Accept', 'a', 'Accept', '', 'X-Empty', '', 'X-Empty', 'v', 'If-Modified-Since', 'd1', 'If-Modified-Since', 'd2'],
  ['HOST', 'x', 'X-Forwarded-For', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2', 'Max-Forwards', '1', 'Max-Forwards', '2', 'From', 'f', 'From', 'g'],
];

test("headersOf builds node's header object from the raw list (checked against node's own server)", async () => {
  const seen: { raw: string[]; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ raw: req.rawHeaders, headers: req.headers });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    for (const raw of CASES) {
      let head = 'GET / HTTP/1.1\r\n';
      for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => sock.end(head + 'Connection: close\r\n\r\n'));
        sock.on('error', reject);
        sock.resume();
        sock.on('close', () => resolve());
      });
    }
  } finally {
    server.close();
  }
  assert.equal(seen.length, CASES.length);
  for (const s of seen) assert.deepEqual({ ...headersOf(s.raw) }, { ...s.headers }, JSON.stringify(s.raw));
});
