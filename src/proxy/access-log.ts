/**
 * The JSON-lines access log (Envoy's default fields, one object per line) to stdout or a file. Lines are batched
 * and written once per event-loop turn, so logging costs one write per turn rather than one per request.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export interface AccessLog {
  readonly write: (line: string) => void;
  close(): Promise<void>;
}

export function createAccessLog(target: string): AccessLog {
  const stream: NodeJS.WritableStream | WriteStream = target === '-' || target === 'stdout' ? process.stdout : createWriteStream(target, { flags: 'a' });
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('\n') + '\n';
    pending = [];
    stream.write(text);
  };
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close() {
      flush();
      if (stream === process.stdout) return Promise.resolve();
      return new Promise((r) => (stream as WriteStream).end(() => r()));
    },
  };
}
