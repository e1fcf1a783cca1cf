/** Runs `meshctl run` as a real child process and reads what it announces. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { BIN, REPO } from '../helpers/cli.js';

export interface RunningCli {
  readonly child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves with the first match of `re` in stderr (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exit(): Promise<number | null>;
  kill(): void;
}

export function spawnCli(args: string[], opts: { cwd?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  const waiters: (() => void)[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // A process that ends without printing what a waiter wants must fail that waiter now, not at its time-out.
  void exited.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  // A test that fails must not leave the proxy running.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(guard));
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    waitFor(re, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${err}`)), ms);
        const check = (): void => {
          const m = err.match(re);
          if (m) {
            clearTimeout(t);
            resolve(m);
          } else if (child.exitCode !== null) {
            clearTimeout(t);
            reject(new Error(`meshctl exited (${child.exitCode}) before ${re}:\n${err}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    exit: () => exited,
    kill: () => child.kill('SIGKILL'),
  };
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
