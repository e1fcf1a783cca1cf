/** Per-endpoint latency distributions for the simulator's virtual clock: `const:5ms`, `exp:10ms`, `normal:20ms,5ms`,
 * `uniform:5ms,15ms`. */
import type { Random } from '../balancer/types.js';

export type LatencyDist =
  | { readonly kind: 'const'; readonly ms: number }
  | { readonly kind: 'exp'; readonly meanMs: number }
  | { readonly kind: 'normal'; readonly meanMs: number; readonly sdMs: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number };

/** `5ms`, `1.5s`, `250us`, `2m`, or a bare number of milliseconds. */
export function parseTime(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(us|µs|ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  switch (m[2]) {
    case 'us':
    case 'µs':
      return v / 1000;
    case 's':
      return v * 1000;
    case 'm':
      return v * 60_000;
    case 'h':
      return v * 3_600_000;
    default:
      return v;
  }
}

export function parseLatency(text: string): LatencyDist | string {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? 'const' : text.slice(0, colon).trim();
  const args = (colon < 0 ? text : text.slice(colon + 1)).split(',').map((s) => parseTime(s));
  if (args.some((a) => a === undefined)) return `bad time in latency ${JSON.stringify(text)} (expected e.g. 5ms, 1.5s)`;
  const [a, b] = args as number[];
  switch (kind) {
    case 'const':
      if (args.length !== 1) return 'const takes one time: const:5ms';
      return { kind: 'const', ms: a! };
    case 'exp':
      if (args.length !== 1) return 'exp takes the mean: exp:10ms';
      return { kind: 'exp', meanMs: a! };
    case 'normal':
      if (args.length !== 2) return 'normal takes mean and standard deviation: normal:20ms,5ms';
      return { kind: 'normal', meanMs: a!, sdMs: b! };
    case 'uniform':
      if (args.length !== 2 || b! < a!) return 'uniform takes min and max: uniform:5ms,15ms';
      return { kind: 'uniform', minMs: a!, maxMs: b! };
    default:
      return `unknown latency distribution ${JSON.stringify(kind)} (const, exp, normal, uniform)`;
  }
}

export function sampleLatency(d: LatencyDist, random: Random): number {
  switch (d.kind) {
    case 'const':
      return d.ms;
    case 'exp':
      return -d.meanMs * Math.log(1 - random.next());
    case 'normal': {
      // Box–Muller; clamped at 0 because a response cannot arrive before the request.
      const u = 1 - random.next();
      const v = random.next();
      return Math.max(0, d.meanMs + d.sdMs * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    }
    case 'uniform':
      return d.minMs + (d.maxMs - d.minMs) * random.next();
  }
}
