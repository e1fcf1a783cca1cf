/**
 * A request body kept for retries: the first attempt streams the body from the client while a copy is kept, up to
 * the listener's per_connection_buffer_limit_bytes (Envoy's router: retry_shadow_buffer_limit, default 1 MiB); a
 * retry sends the copy. A body over the limit, or one the client has not finished sending, cannot be retried: at
 * the overflow Envoy gives up on retrying (upstream_rq_retry_or_shadow_abandoned) and streams on.
 */
import type { Readable } from 'node:stream';

/** Envoy's default per_connection_buffer_limit_bytes. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

/** Told once when the kept copy outgrows the limit. */
export interface BodyOverflowSink {
  bodyOverflowed(): void;
}

export class RetryBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private started = false;
  private complete = false;
  private overflow = false;
  private buffered: Buffer | null = null;
  private readonly iter: AsyncGenerator<Buffer>;

  constructor(
    src: Readable,
    private readonly limit: number,
    private readonly sink: BodyOverflowSink,
  ) {
    this.iter = this.tee(src);
  }

  private async *tee(src: Readable): AsyncGenerator<Buffer> {
    this.started = true;
    for await (const c of src as AsyncIterable<Buffer>) {
      if (!this.overflow) {
        if (this.size + c.length > this.limit) {
          this.overflow = true;
          this.chunks.length = 0;
          this.sink.bodyOverflowed();
        } else {
          this.chunks.push(c);
          this.size += c.length;
        }
      }
      yield c;
    }
    this.complete = true;
  }

  /** The body for the next attempt: the client's stream the first time, then the kept copy. */
  next(): AsyncIterable<Buffer> | Buffer {
    if (!this.started) return this.iter;
    return this.buffered ?? (this.buffered = Buffer.concat(this.chunks));
  }

  /** False once an attempt has started on a body that is not complete or was too large to keep. */
  replayable(): boolean {
    return !this.started || (this.complete && !this.overflow);
  }
}
