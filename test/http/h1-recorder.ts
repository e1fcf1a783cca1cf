/**
 * A handler for H1Parser tests that writes down what the parser reported: heads, de-chunked body bytes, trailers,
 * the error; and a feeder that gives a parser a byte stream in pieces, re-feeding what a pause left over.
 */
import { H1Parser } from '../../src/http/h1/parser.js';
import type { H1Error, H1Handler, H1Head, H1Kind, H1Limits } from '../../src/http/h1/types.js';

export interface Message {
  head: H1Head;
  /** Interim (1xx) heads before this one. */
  interim: H1Head[];
  body: string;
  trailers: string[] | null;
  complete: boolean;
}

export interface Outcome {
  messages: Message[];
  error: H1Error | null;
  /** Bytes consumed in total. */
  consumed: number;
}

export const DEFAULT_LIMITS: H1Limits = { maxHeadBytes: 60 * 1024, maxHeaders: 100 };

export class Recorder implements H1Handler {
  readonly messages: Message[] = [];
  error: H1Error | null = null;
  errors = 0;
  private interim: H1Head[] = [];
  /** Events at which to return true (pause): 'head', 'body', 'complete'. */
  pauseOn = new Set<string>();
  pauses = 0;

  onHead(head: H1Head): boolean {
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      this.interim.push(head);
    } else {
      this.messages.push({ head, interim: this.interim, body: '', trailers: null, complete: false });
      this.interim = [];
    }
    return this.pause('head');
  }
  onBody(chunk: Buffer): boolean {
    const m = this.messages[this.messages.length - 1];
    m.body += chunk.toString('latin1');
    return this.pause('body');
  }
  onComplete(trailers: string[] | null): boolean {
    const m = this.messages[this.messages.length - 1];
    m.trailers = trailers;
    m.complete = true;
    return this.pause('complete');
  }
  onError(err: H1Error): void {
    this.error = err;
    this.errors++;
  }
  private pause(what: string): boolean {
    if (!this.pauseOn.has(what)) return false;
    this.pauses++;
    return true;
  }
}

/** Feeds `pieces` in order; after a pause, re-feeds the rest of the piece. Stops at an error or a tunnel. */
export function feed(parser: H1Parser, pieces: Buffer[]): number {
  let consumed = 0;
  for (const piece of pieces) {
    let rest = piece;
    for (;;) {
      const n = parser.execute(rest);
      if (n < 0) return -1;
      consumed += n;
      if (n === rest.length) break;
      if (n === 0) return consumed; // a tunnel: the parser takes no more
      rest = rest.subarray(n);
    }
  }
  return consumed;
}

/** Parses `input` cut at `cuts` (byte offsets), finishing (EOF) when `eof`. */
export function parse(
  kind: H1Kind,
  input: Buffer | string,
  opts: { cuts?: number[]; eof?: boolean; limits?: H1Limits; pauseOn?: string[]; headRequest?: boolean } = {},
): Outcome & { recorder: Recorder; parser: H1Parser } {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const rec = new Recorder();
  for (const p of opts.pauseOn ?? []) rec.pauseOn.add(p);
  const parser = new H1Parser(kind, opts.limits ?? DEFAULT_LIMITS, rec);
  if (opts.headRequest) parser.noBodyForNextResponse();
  const pieces: Buffer[] = [];
  let at = 0;
  for (const c of [...(opts.cuts ?? []), bytes.length]) {
    pieces.push(bytes.subarray(at, c));
    at = c;
  }
  const consumed = feed(parser, pieces);
  if (opts.eof && consumed >= 0) parser.finish();
  return { messages: rec.messages, error: rec.error, consumed, recorder: rec, parser };
}
