/**
 * meshctl's HTTP/1.1 response object on a real TCP connection, the bytes its client receives checked as written:
 * chunked framing with trailers in the last chunk, Content-Length framing (no trailers possible),
 * HEAD, HTTP/1.0 without keep-alive, a refused header value that leaves the response usable, and 100 Continue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { H1Response, type ResponseOwner } from '../../src/proxy/h1-response.js';

/** A server socket and the bytes its client receives until the server ends the connection. */
async function exchange(write: (res: H1Response) => void, opts: { versionMinor?: number; keepAlive?: boolean; isHead?: boolean } = {}): Promise<{ text: string; ended: number }> {
  let ended = 0;
  const owner: ResponseOwner = { responseEnded: () => void ended++ };
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const served = new Promise<void>((resolve) => {
    server.once('connection', (sock: net.Socket) => {
      const res = new H1Response(sock, owner, opts.versionMinor ?? 1, opts.keepAlive ?? true, opts.isHead ?? false);
      write(res);
      sock.end();
      resolve();
    });
  });
  const client = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  client.on('data', (d: Buffer) => chunks.push(d));
  await served;
  await new Promise<void>((r) => client.on('close', () => r()));
  server.close();
  return { text: Buffer.concat(chunks).toString('latin1'), ended };
}

test('no Content-Length on HTTP/1.1: chunked, with the trailers in the last chunk', async () => {
  const r = await exchange((res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-a': ['1', '2'] });
    res.write(Buffer.from('hello'));
    res.write(Buffer.from(' world'));
    res.addTrailers({ 'grpc-status': '0', 'x-t': 'v' } as Record<string, string>);
    res.end();
  });
  assert.equal(r.ended, 1);
  const [head, body] = [r.text.slice(0, r.text.indexOf('\r\n\r\n') + 4), r.text.slice(r.text.indexOf('\r\n\r\n') + 4)];
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\ntransfer-encoding: chunked\r\n/);
  assert.match(head, /\r\nx-a: 1\r\nx-a: 2\r\n/);
  assert.match(head, /\r\ndate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/);
  assert.doesNotMatch(head, /connection:/i, 'keep-alive on HTTP/1.1 is not announced');
  assert.equal(body, '5\r\nhello\r\n6\r\n world\r\n0\r\ngrpc-status: 0\r\nx-t: v\r\n\r\n');
});

test('Content-Length framing: head and a small body leave in one piece; trailers have nowhere to go', async () => {
  const r = await exchange((res) => {
    res.writeHead(201, { 'content-length': '3' });
    res.addTrailers({ 'x-t': 'v' });
    res.end(Buffer.from('abc'));
  });
  assert.match(r.text, /^HTTP\/1\.1 201 Created\r\ncontent-length: 3\r\ndate: [^\r]+\r\n\r\nabc$/);
});

test('HEAD and 204: the head only; HTTP/1.0 without a length: connection: close and the body until the end', async () => {
  const head = await exchange((res) => {
    res.writeHead(200, { 'content-length': '50' });
    res.write(Buffer.from('ignored'));
    res.end();
  }, { isHead: true });
  assert.match(head.text, /\r\ncontent-length: 50\r\n/);
  assert.ok(head.text.endsWith('\r\n\r\n'), JSON.stringify(head.text));
  const noContent = await exchange((res) => {
    res.writeHead(204, {});
    res.end();
  });
  assert.doesNotMatch(noContent.text, /transfer-encoding/);
  assert.ok(noContent.text.endsWith('\r\n\r\n'));
  const old = await exchange((res) => {
    res.writeHead(200, {});
    res.end(Buffer.from('all of it'));
  }, { versionMinor: 0, keepAlive: true });
  assert.match(old.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(old.text, /\r\nconnection: close\r\n/);
  assert.doesNotMatch(old.text, /transfer-encoding/);
  assert.ok(old.text.endsWith('\r\n\r\nall of it'));
});

test('a header value with CR LF is refused and leaves the response as it was; 100 Continue once, before the head', async () => {
  const r = await exchange((res) => {
    res.writeContinue();
    res.writeContinue();
    assert.throws(() => res.writeHead(204, { 'x-bad': 'a\r\nx-injected: 1' }), /invalid character/);
    assert.equal(res.headersSent, false);
    res.writeHead(502, { 'content-length': '2' });
    res.writeContinue();
    res.end(Buffer.from('no'));
  });
  assert.equal(r.text.split('100 Continue').length, 2, r.text);
  assert.match(r.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 502 Bad Gateway\r\ncontent-length: 2\r\n/);
  assert.ok(r.text.endsWith('\r\n\r\nno'), r.text);
  assert.doesNotMatch(r.text, /x-injected/);
});
