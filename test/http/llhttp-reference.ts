/**
 * node's own HTTP/1.1 parser (llhttp, through `_http_common`'s HTTPParser binding, the one node's http server and
 * client use) driven like H1Parser, as the reference for the differential test and the bench. Default (strict)
 * llhttp flags, as node 20 runs it without --insecure-http-parser.
 */
import { createRequire } from 'node:module';

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(buf: Buffer): number | (Error & { code: string; reason: string; bytesParsed: number });
  finish(): undefined | (Error & { code: string; reason: string });
  [key: number]: unknown;
}

interface HTTPParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kLenientNone: number;
}

const common = createRequire(import.meta.url)('_http_common') as { HTTPParser: HTTPParserClass; methods: string[] };
const { HTTPParser, methods } = common;

/** What the reference saw of one message. */
export interface RefMessage {
  method: string;
  target: string;
  versionMajor: number;
  versionMinor: number;
  status: number;
  reason: string;
  rawHeaders: string[];
  keepAlive: boolean;
  upgrade: boolean;
  body: Buffer[];
  trailers: string[] | null;
  complete: boolean;
}

export interface RefOutcome {
  messages: RefMessage[];
  /** llhttp's error code and reason, or null. */
  error: { code: string; reason: string } | null;
  /** Stopped after a message that does not keep the connection (llhttp refuses data after it) or an upgrade. */
  stopped: boolean;
}

export interface RefOptions {
  /** The next (final) response answers HEAD. */
  headResponse?: boolean;
  /** Stop at the first message that does not keep the connection alive (llhttp errors on data after it). */
  stopAtClose?: boolean;
  /** Do not record (for the bench). */
  quiet?: boolean;
}

/** A reusable llhttp parser with the callbacks wired to a RefOutcome. */
export class LlhttpReference {
  private readonly parser: NativeParser = new HTTPParser();
  private out: RefOutcome = { messages: [], error: null, stopped: false };
  private pendingHeaders: string[] = [];
  private pendingUrl = '';
  private current: RefMessage | null = null;
  heads = 0;

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly opts: RefOptions = {},
  ) {
    this.reset();
  }

  reset(): void {
    const p = this.parser;
    p.initialize(this.kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, 64 * 1024, HTTPParser.kLenientNone);
    this.out = { messages: [], error: null, stopped: false };
    this.pendingHeaders = [];
    this.pendingUrl = '';
    this.current = null;
    let headResponse = this.opts.headResponse === true;
    const quiet = this.opts.quiet === true;
    p[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      if (quiet) return;
      // Before the head completes: a flush of many headers; after it: trailers.
      if (this.current !== null && !this.current.complete) {
        this.current.trailers = [...(this.current.trailers ?? []), ...headers];
      } else {
        this.pendingHeaders.push(...headers);
        this.pendingUrl += url ?? '';
      }
    };
    p[HTTPParser.kOnHeadersComplete] = (
      major: number,
      minor: number,
      headers: string[] | undefined,
      method: number | undefined,
      url: string | undefined,
      status: number | undefined,
      reason: string | undefined,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => {
      this.heads++;
      const interim = status !== undefined && status >= 100 && status < 200;
      if (!quiet) {
        const m: RefMessage = {
          method: method === undefined ? '' : methods[method],
          target: (this.pendingUrl + (url ?? '')) || '',
          versionMajor: major,
          versionMinor: minor,
          status: status ?? 0,
          reason: reason ?? '',
          rawHeaders: [...this.pendingHeaders, ...(headers ?? [])],
          keepAlive,
          upgrade: this.kind === 'response' ? status === 101 : upgrade,
          body: [],
          trailers: null,
          complete: false,
        };
        this.out.messages.push(m);
        this.current = m;
      }
      this.pendingHeaders = [];
      this.pendingUrl = '';
      // node's client answers 1 ("no body") for a HEAD response; interim responses keep the flag.
      if (headResponse && !interim) {
        headResponse = false;
        return 1;
      }
      return 0;
    };
    p[HTTPParser.kOnBody] = (b: Buffer) => {
      if (!quiet && this.current) this.current.body.push(Buffer.from(b));
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      const m = this.current;
      if (m) {
        m.complete = true;
        if (this.opts.stopAtClose && (!m.keepAlive || m.upgrade)) this.out.stopped = true;
      }
    };
  }

  /** Feeds one piece; false once the reference stopped (error, close or upgrade). */
  execute(piece: Buffer): boolean {
    if (this.out.error || this.out.stopped) return false;
    const r = this.parser.execute(piece);
    if (typeof r !== 'number') {
      if (!this.out.stopped) this.out.error = { code: r.code, reason: r.reason };
      return false;
    }
    const m = this.current;
    // An upgrade head pauses llhttp (after the upgrade message's body, if it declared one).
    if (m && m.upgrade && m.complete) this.out.stopped = true;
    return !this.out.stopped;
  }

  finish(): void {
    if (this.out.error || this.out.stopped) return;
    const r = this.parser.finish();
    if (r) this.out.error = { code: r.code, reason: r.reason };
  }

  outcome(): RefOutcome {
    return this.out;
  }
}
