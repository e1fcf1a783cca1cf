/** A raw TCP client for HTTP/1.1 tests: writes what a test gives it and collects every byte the proxy sends back. */
import net from 'node:net';

export class Raw {
  readonly sock: net.Socket;
  data = Buffer.alloc(0);
  closed = false;
  private waiters: (() => void)[] = [];
  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.setNoDelay(true);
    this.sock.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    this.sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    this.sock.on('error', () => undefined);
  }
  text(): string {
    return this.data.toString('latin1');
  }
  /** Resolves with everything received once `until` matches it, or once the socket has closed. */
  wait(until: RegExp | ((t: string) => boolean), ms = 5000): Promise<string> {
    const test = typeof until === 'function' ? until : (t: string): boolean => until.test(t);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out; got:\n${this.text()}`)), ms);
      const check = (): void => {
        if (test(this.text()) || this.closed) {
          clearTimeout(t);
          resolve(this.text());
        } else this.waiters.push(check);
      };
      check();
    });
  }
  /** Writes one byte at a time, each after the previous has left (and a pause, so that each is a read of its own). */
  async trickle(s: string): Promise<void> {
    for (const ch of Buffer.from(s, 'latin1')) {
      await new Promise<void>((r) => this.sock.write(Buffer.of(ch), () => r()));
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}
