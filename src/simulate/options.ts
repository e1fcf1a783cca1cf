/** Turning `meshctl simulate` flags into SimulateOptions; every mistake is a message naming the flag. */
import { UsageError } from '../config/usage-error.js';
import { type LatencyDist, parseLatency, parseTime } from './latency.js';
import type { TimelineEvent } from './engine.js';

export class OptionError extends UsageError {}

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

/** `HOST:PORT` (IPv6 in brackets), normalized to the host set's `ip:port` form. */
export function parseAddress(text: string, flag: string): string {
  const m = ADDRESS.exec(text.trim());
  if (!m || Number(m[2]) > 65535) throw new OptionError(`${flag}: expected HOST:PORT (e.g. 10.244.0.2:8080 or [::1]:80), got ${JSON.stringify(text)}`);
  return `${m[1]}:${Number(m[2])}`;
}

export function parseCount(text: string, flag: string): number {
  const clean = text.replace(/_/g, '');
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(clean);
  if (!m) throw new OptionError(`${flag}: expected a positive whole number (e.g. 300000, 300k, 1M), got ${JSON.stringify(text)}`);
  const mult = m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6;
  const n = Number(m[1]) * mult;
  if (!Number.isInteger(n) || n <= 0) throw new OptionError(`${flag}: expected a positive whole number, got ${JSON.stringify(text)}`);
  return n;
}

export function parsePositive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new OptionError(`${flag}: expected a positive number, got ${JSON.stringify(text)}`);
  return n;
}

export function parseDurationFlag(text: string, flag: string): number {
  const ms = parseTime(text);
  if (ms === undefined || ms <= 0) throw new OptionError(`${flag}: expected a duration such as 30s, 500ms or 2m, got ${JSON.stringify(text)}`);
  return ms;
}

/** `K:V` (or `K=V`) header flags, grouped by lower-case name: several values of one name form a mix. */
export function parseHeaders(values: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of values) {
    const m = /^\s*(:?[^:=\s]+)\s*[:=]\s?(.*)$/.exec(v);
    if (!m) throw new OptionError(`--header: expected NAME:VALUE, got ${JSON.stringify(v)}`);
    const name = m[1]!.toLowerCase();
    const list = out.get(name) ?? [];
    list.push(m[2]!);
    out.set(name, list);
  }
  return out;
}

/** `HOST:PORT=DIST` or `*=DIST`. */
export function parseLatencyFlags(values: readonly string[]): Map<string, LatencyDist> {
  const out = new Map<string, LatencyDist>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) throw new OptionError(`--latency: expected HOST:PORT=DIST (e.g. 10.244.0.2:8080=exp:10ms), got ${JSON.stringify(v)}`);
    const target = v.slice(0, eq).trim();
    const address = target === '*' ? '*' : parseAddress(target, '--latency');
    const d = parseLatency(v.slice(eq + 1).trim());
    if (typeof d === 'string') throw new OptionError(`--latency ${v}: ${d}`);
    out.set(address, d);
  }
  return out;
}

/** `10s:down=HOST:PORT` / `1m30s` is not accepted; `90s:up=HOST:PORT`. */
export function parseTimeline(values: readonly string[]): TimelineEvent[] {
  return values.map((v) => {
    const m = /^([^:]+):(down|up)=(.+)$/.exec(v.trim());
    if (!m) throw new OptionError(`--at: expected TIME:down=HOST:PORT or TIME:up=HOST:PORT (e.g. 10s:down=10.244.0.2:8080), got ${JSON.stringify(v)}`);
    const atMs = parseTime(m[1]!);
    if (atMs === undefined) throw new OptionError(`--at: bad time ${JSON.stringify(m[1])} in ${JSON.stringify(v)} (e.g. 10s, 500ms)`);
    return { atMs, action: m[2] as 'down' | 'up', address: parseAddress(m[3]!, '--at') };
  });
}

/** A numeric seed when the text is a whole number, else the text itself (hashed). */
export function parseSeed(text: string): number | string {
  return /^\d{1,15}$/.test(text) ? Number(text) : text;
}
