/**
 * Where simulated requests come from: a synthetic mix (hosts × paths × header values, plus varied client addresses),
 * or a replay file of JSON lines or Envoy access-log lines, read as a stream so memory stays flat.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Random } from '../balancer/types.js';
import { UsageError } from '../config/usage-error.js';

/** One request as the simulator routes it. Header names are lower-case. */
export interface SimRequest {
  listener: string | undefined;
  method: string;
  authority: string;
  path: string;
  headers: Record<string, string>;
  sourceIp: string | undefined;
}

export interface SyntheticMix {
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
  readonly methods: readonly string[];
  /** Header name → the values to mix (one per request). */
  readonly headers: ReadonlyMap<string, readonly string[]>;
}

/**
 * Fills one reusable request object per call (no allocation per request). Each list with several entries is drawn
 * uniformly; the client address is drawn from 198.18.0.0/15 (the benchmarking range) so source-IP hashing sees many
 * clients, as a real mesh would.
 */
export class SyntheticTraffic {
  private readonly req: SimRequest = { listener: undefined, method: 'GET', authority: '', path: '/', headers: {}, sourceIp: undefined };
  private readonly headerNames: string[];
  private readonly headerValues: (readonly string[])[];
  private readonly ips: string[] = [];

  constructor(
    private readonly mix: SyntheticMix,
    private readonly random: Random,
  ) {
    this.headerNames = [...mix.headers.keys()];
    this.headerValues = this.headerNames.map((n) => mix.headers.get(n)!);
    // A pool of client addresses built once; draws index it.
    for (let i = 0; i < 4096; i++) this.ips.push(`198.${18 + (i >> 12)}.${(i >> 8) & 15}.${i & 255}`);
  }

  next(hostFallback: string): SimRequest {
    const r = this.req;
    const m = this.mix;
    r.authority = m.hosts.length === 0 ? hostFallback : m.hosts.length === 1 ? m.hosts[0]! : m.hosts[this.random.nextU32() % m.hosts.length]!;
    r.path = m.paths.length === 1 ? m.paths[0]! : m.paths[this.random.nextU32() % m.paths.length]!;
    r.method = m.methods.length === 1 ? m.methods[0]! : m.methods[this.random.nextU32() % m.methods.length]!;
    for (let i = 0; i < this.headerNames.length; i++) {
      const vals = this.headerValues[i]!;
      r.headers[this.headerNames[i]!] = vals.length === 1 ? vals[0]! : vals[this.random.nextU32() % vals.length]!;
    }
    r.sourceIp = this.ips[this.random.nextU32() & 4095];
    return r;
  }
}

/**
 * Parses one replay line: a JSON object `{method, host|authority, path, headers, listener, source_ip}` or an Envoy
 * access-log line in the default format (`[time] "METHOD PATH PROTO" code flags … "xff" "ua" "request-id" "authority"
 * "upstream"`). Blank lines and `#` comments give undefined.
 */
export function parseReplayLine(text: string): SimRequest | undefined | string {
  const line = text.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  if (line.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      return `invalid JSON: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return 'expected a JSON object';
    const o = obj as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
    const headers: Record<string, string> = {};
    if (o.headers !== undefined) {
      if (typeof o.headers !== 'object' || o.headers === null || Array.isArray(o.headers)) return '"headers" must be an object of strings';
      for (const [k, v] of Object.entries(o.headers as Record<string, unknown>)) {
        if (typeof v !== 'string') return `header ${JSON.stringify(k)} must be a string`;
        headers[k.toLowerCase()] = v;
      }
    }
    const authority = str('authority') ?? str('host') ?? headers[':authority'] ?? headers['host'] ?? '';
    return {
      listener: str('listener'),
      method: (str('method') ?? 'GET').toUpperCase(),
      authority,
      path: str('path') ?? '/',
      headers,
      sourceIp: str('source_ip') ?? str('sourceIp'),
    };
  }
  if (line.startsWith('[')) {
    const quoted = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    const first = quoted[0]?.split(' ');
    if (!first || first.length < 2) return 'access-log line without "METHOD PATH PROTOCOL"';
    const headers: Record<string, string> = {};
    let authority = '';
    let sourceIp: string | undefined;
    if (quoted.length >= 6) {
      const [xff, ua, reqId, auth] = quoted.slice(quoted.length - 5);
      if (xff && xff !== '-') sourceIp = xff.split(',')[0]!.trim();
      if (ua && ua !== '-') headers['user-agent'] = ua;
      if (reqId && reqId !== '-') headers['x-request-id'] = reqId;
      if (auth && auth !== '-') authority = auth;
    }
    return { listener: undefined, method: first[0]!, authority, path: first[1]!, headers, sourceIp };
  }
  return 'neither a JSON object nor an Envoy access-log line';
}

/** Reads a replay file line by line. Errors name file:line. */
export async function* readReplayFile(path: string): AsyncGenerator<SimRequest, void, void> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    const r = parseReplayLine(text);
    if (r === undefined) continue;
    if (typeof r === 'string') throw new UsageError(`${path}:${n}: ${r}`);
    yield r;
  }
}
