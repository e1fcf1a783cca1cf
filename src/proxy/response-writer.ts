/**
 * Writing the downstream response, HTTP/1.1 and HTTP/2: the upstream's head, body chunks with back-pressure to the
 * upstream attempt, the end, a local reply, or a reset when the response cannot be completed.
 */
import type { Http2ServerResponse } from 'node:http2';
import type { OutHeaders } from '../http/headers.js';
import type { AttemptControl } from '../upstream/pool.js';
import type { DownReq, DownRes } from './downstream.js';
import { H2Response } from './h2-response.js';

/** The upstream response's head. Throws when the downstream codec refuses the headers (malformed upstream headers).
 * `trailers`: an HTTP/2 stream that will end with trailers (the client asked for them with `te: trailers`). */
export function writeResponseHead(res: DownRes, h2: boolean, status: number, out: OutHeaders, trailers: boolean): void {
  // meshctl's own HTTP/2 response holds its head until the first body bytes or the end, and sends trailers when it is
  // given them: its writeHead is the whole story.
  if (res instanceof H2Response) return void res.writeHead(status, out as Record<string, string | string[]>);
  if (h2) return respondH2(res as Http2ServerResponse, status, out, trailers);
  // node's response: headers, a small body and the end usually arrive in one parser pass: corked, they leave in one
  // write. (meshctl's own HTTP/1.1 response holds its head until the first body bytes without being asked.)
  if (res.cork !== undefined) {
    res.cork();
    process.nextTick(uncork, res);
  }
  res.writeHead(status, out as Record<string, string | string[]>);
}

/**
 * An upstream response's head on an HTTP/2 stream, sent on the stream itself rather than through node's
 * compatibility response (which validates and copies every header again and always asks for trailers, so each
 * response ended with an extra frame). What the compatibility layer did is kept: a `connection` header dropped,
 * no content-length on a 204, nothing sent on a stream already gone.
 */
function respondH2(res: Http2ServerResponse, status: number, out: OutHeaders, trailers: boolean, endStream = false): void {
  const stream = res.stream;
  if (stream.destroyed || stream.closed) return;
  if (status === 204) delete out['content-length'];
  if (out.connection !== undefined && out.connection !== 'trailers') delete out.connection;
  out[':status'] = String(status);
  stream.respond(out as Record<string, string | string[]>, trailers ? WAIT_FOR_TRAILERS : endStream ? END_STREAM : NO_END_STREAM);
}

const NO_END_STREAM = { endStream: false };
const END_STREAM = { endStream: true };
const WAIT_FOR_TRAILERS = { endStream: false, waitForTrailers: true };

/** A response that is headers only (gRPC's trailers-only form: the status is in the headers), HTTP/2 or HTTP/1.1. */
export function writeHeadersOnly(res: DownRes, h2: boolean, status: number, out: OutHeaders): void {
  try {
    if (h2 && !(res instanceof H2Response)) respondH2(res as Http2ServerResponse, status, out, false, true);
    else {
      res.writeHead(status, out as Record<string, string>);
      res.end();
    }
  } catch {
    // The downstream went away.
  }
}

/** A body chunk; when the downstream is slow, the upstream attempt pauses until it drains. */
export function writeResponseData(res: DownRes, h2: boolean, chunk: Buffer, ctl: AttemptControl | undefined): void {
  if (h2 && !(res instanceof H2Response)) {
    const stream = (res as Http2ServerResponse).stream;
    if (stream.destroyed || stream.writableEnded) return;
    if (!stream.write(chunk)) {
      ctl?.pause();
      stream.once('drain', () => ctl?.resume());
    }
    return;
  }
  if (!res.write(chunk)) {
    ctl?.pause();
    res.once('drain', () => ctl?.resume());
  }
}

/** The end of the response. `trailers` (HTTP/2 whose head asked for them; HTTP/1.1 with enable_trailers): sent after
 * the last data. node's compatibility response sends its own trailer list when the stream asks for trailers, so they
 * go there; meshctl's HTTP/1.1 response writes them in the last chunk. */
export function endResponse(res: DownRes, h2: boolean, trailers: OutHeaders | null): void {
  if (h2 && !(res instanceof H2Response)) {
    const stream = (res as Http2ServerResponse).stream;
    if (stream.destroyed || stream.writableEnded) return;
    if (trailers !== null) (res as Http2ServerResponse).addTrailers(trailers as Record<string, string>);
    stream.end();
  } else {
    // HTTP/1.1: the exchange passes trailers only where the connection manager keeps them (enable_trailers).
    if (trailers !== null) res.addTrailers(trailers as Record<string, string>);
    res.end();
  }
}

/** A response the proxy makes itself, whole. */
export function writeLocalResponse(res: DownRes, status: number, out: OutHeaders, body: Buffer): void {
  try {
    res.writeHead(status, out as Record<string, string>);
    res.end(body);
  } catch {
    // The downstream went away.
  }
}

/** A response that started cannot be completed: reset the HTTP/2 stream, or close the HTTP/1.1 connection. */
export function resetDownstream(req: DownReq, res: DownRes, h2: boolean): void {
  if (res instanceof H2Response) res.reset(2 /* INTERNAL_ERROR */);
  else if (h2) (res as Http2ServerResponse).stream.close(2 /* INTERNAL_ERROR */);
  else req.socket?.destroy();
}

function uncork(r: DownRes): void {
  if (r.writableCorked! > 0) r.uncork!();
}
