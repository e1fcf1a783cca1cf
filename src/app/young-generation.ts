/**
 * `run` keeps V8's young generation at its start-up size. Under sustained allocation (every proxied request leaves a
 * few kB of short-lived objects) V8 doubles the new space after scavenges until it reaches its maximum (16 MB per
 * semi-space in Node 20): a proxy at 30k req/s then holds ~50 MB more resident memory while serving no faster
 * (docs/BENCHMARKS.md, Proxy: 112 MB under load with growth, 64 MB without, the same requests/s).
 *
 * `--max-semi-space-size` can only be given when node starts, but the growth factor is read each time V8 grows the
 * new space, so setting it to 1 from inside the process holds the new space where it is. Anyone who sized the young
 * generation on node's command line or in NODE_OPTIONS keeps their choice.
 */
import v8 from 'node:v8';

const YOUNG_GENERATION_FLAG = /^--(?:max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/;

/** Whether the user sized the young generation on node's command line or in NODE_OPTIONS. */
export function youngGenerationSizedByUser(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => YOUNG_GENERATION_FLAG.test(a));
}

export function holdYoungGeneration(): void {
  if (youngGenerationSizedByUser(process.execArgv, process.env.NODE_OPTIONS)) return;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
