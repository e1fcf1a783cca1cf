/**
 * A request body kept for retries: the first attempt streams the body from the client while a copy is kept, up to
 * Envoy's default per-connection buffer limit; a retry sends the copy. A body over the limit, or one the client has
 * not finished sending, cannot be retried.
 */
import type { Readable } from 'node:stream';

/** Request bodies kept for a retry, up to Envoy's default per-connection buffer limit. */
const RETRY_BUFFER_LIMIT = 1024 * 1024;

export class RetryBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private started = false;
  private complete = false;
  private overflow = false;
  private buffered: Buffer | null = null;
  private readonly iter: AsyncGenerator<Buffer>;

  constructor(src: Readable) {
    this.iter = this.tee(src);
  }

  private async *tee(src: Readable): AsyncGenerator<Buffer> {
    this.started = true;
    for await (const c of src as AsyncIterable<Buffer>) {
      if (!this.overflow) {
        if (this.size + c.length > RETRY_BUFFER_LIMIT) {
          this.overflow = true;
          this.chunks.length = 0;
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
