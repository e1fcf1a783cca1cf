/**
 * A downstream HTTP/1.1 request as meshctl's own codec hands it to the engine (a DownReq): the parsed head, the header
 * object in node's shape (the engine and its filters read node's), and a body stream only when the request has a
 * body. The connection (h1-connection.ts) feeds the body; the stream asks the connection for more when it is read.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { H1Head } from '../http/h1/types.js';
import type { DownReq } from './downstream.js';

/** What a body stream asks of its connection. */
export interface BodySource {
  /** The reader wants more: parse on (the connection had paused on a full stream). */
  bodyWanted(): void;
}

/** A request body: bytes pushed by the connection as the parser hands them on (no copies). */
export class H1Body extends Readable {
  /** Body bytes received so far (de-chunked): Envoy's %BYTES_RECEIVED% of an HTTP/1.1 request. */
  bytes = 0;
  constructor(private readonly source: BodySource) {
    super();
  }

  override _read(): void {
    this.source.bodyWanted();
  }

  /** As node's request: a body cut off by the client fails only a reader that listens for errors (the iterator sees
   * a premature close either way). */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    cb(this.listenerCount('error') === 0 ? null : err);
  }
}

export class H1Request implements DownReq {
  readonly method: string;
  url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly httpVersion: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  readonly body: H1Body | null;
  /** The chunked body's trailer fields, set when the body has ended ({} when it had none), as node sets them. */
  trailers: IncomingHttpHeaders = EMPTY_TRAILERS;
  /** The head declares a body (an upgrade's or CONNECT's bytes after the head are the tunnel's, not a body stream). */
  readonly declaresBody: boolean;

  constructor(
    head: H1Head,
    readonly socket: Socket,
    source: BodySource,
  ) {
    this.method = head.method;
    this.url = head.target;
    this.rawHeaders = head.rawHeaders;
    this.headers = headersOf(head.rawHeaders);
    this.httpVersionMinor = head.versionMinor;
    this.httpVersion = head.versionMinor === 0 ? '1.0' : '1.1';
    // A CONNECT or an upgrade carries no body of this request: what follows the head is the tunnel's.
    this.declaresBody = head.chunked || head.contentLength > 0;
    this.body = !head.upgrade && this.declaresBody ? new H1Body(source) : null;
  }
}

const EMPTY_TRAILERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** What a request the codec refused is counted and logged as (Envoy logs a codec error as a request too, flag DPE):
 * nothing of its head is known, so method and path log as '-'. */
export class RefusedRequest implements DownReq {
  readonly headers: IncomingHttpHeaders = {};
  readonly rawHeaders: string[] = [];
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly body = null;

  constructor(readonly socket: Socket) {}
}

/**
 * The header object as node's IncomingMessage builds it from the raw list (lib/_http_incoming.js, matchKnownFields):
 * names lower-cased; set-cookie always an array; for the fields that may appear once, the first value kept; cookie
 * values joined with '; '; any other repeated field joined with ', '.
 */
export function headersOf(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = lowerName(raw[i]!);
    const value = raw[i + 1]!;
    const prev = out[name];
    if (prev === undefined) {
      out[name] = name === 'set-cookie' ? [value] : value;
      continue;
    }
    if (name === 'set-cookie') (prev as string[]).push(value);
    else if (name === 'cookie') out[name] = `${prev as string}; ${value}`;
    else if (!SINGLE.has(name)) out[name] = `${prev as string}, ${value}`;
  }
  return out;
}

/** Fields node keeps the first value of (duplicates dropped). */
const SINGLE = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'host',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
]);

/** The name lower-cased, without a new string when it already is (most clients send some lower-case names). */
function lowerName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}
