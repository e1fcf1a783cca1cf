/**
 * A small echo upstream for `meshctl demo`, the tests and the benchmark: answers every request with JSON naming
 * itself and echoing the method, path and headers it received; `POST /echo` streams the request body back.
 * `/status/<code>` answers that status, `/delay/<ms>` waits first, `/bytes/<n>` streams n bytes.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  /** Requests served so far. */
  readonly count: () => number;
  close(): Promise<void>;
}

interface EchoOptions {
  readonly name: string;
  readonly host?: string;
  readonly port?: number;
  /** HTTP/2 cleartext (prior knowledge) instead of HTTP/1.1. */
  readonly h2c?: boolean;
  /** A fixed small body (fast path for benchmarks) instead of the JSON echo. */
  readonly fixedBody?: string;
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

export async function startEchoServer(opts: EchoOptions): Promise<EchoServer> {
  let n = 0;
  const fixed = opts.fixedBody !== undefined ? Buffer.from(opts.fixedBody) : undefined;
  const handler = (req: Req, res: Res): void => {
    n++;
    const url = req.url ?? '/';
    if (fixed !== undefined) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(fixed.length) });
      res.end(fixed);
      return;
    }
    const status = /^\/status\/(\d{3})/.exec(url);
    const delay = /^\/delay\/(\d+)/.exec(url);
    const bytes = /^\/bytes\/(\d+)/.exec(url);
    if (url.startsWith('/echo') && req.method === 'POST') {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'x-upstream': opts.name });
      (req as NodeJS.ReadableStream).pipe(res as unknown as NodeJS.WritableStream);
      return;
    }
    if (bytes) {
      const total = Number(bytes[1]);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-upstream': opts.name });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          const c = chunk.subarray(0, Math.min(chunk.length, total - sent));
          sent += c.length;
          if (!(res as http.ServerResponse).write(c)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    const answer = (): void => {
      const body = JSON.stringify({
        upstream: opts.name,
        method: req.method,
        path: url,
        headers: req.headers,
      });
      res.writeHead(status ? Number(status[1]) : 200, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'x-upstream': opts.name,
      });
      res.end(body);
    };
    // Drain any request body first.
    (req as NodeJS.ReadableStream).on('data', () => undefined);
    (req as NodeJS.ReadableStream).on('end', () => {
      if (delay) setTimeout(answer, Number(delay[1]));
      else answer();
    });
  };
  const server = opts.h2c ? http2.createServer({}, handler) : http.createServer(handler);
  if (server instanceof http.Server) server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return {
    name: opts.name,
    port: a.port,
    address: a.address,
    count: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (server instanceof http.Server) server.closeAllConnections();
        for (const s of sessions) s.destroy();
      }),
  };
}
