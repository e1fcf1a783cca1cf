/** Address syntax: IP literals, DNS names, `host:port` pairs, http(s) URLs. */
import { isIPv4, isIPv6 } from 'node:net';

export function isIpLiteral(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** RFC 1123 host name: labels of 1–63 letters, digits, `-` or `_`, not starting or ending with `-`; at most 253 chars. */
export function isDnsName(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > 253) return false;
  for (const label of name.split('.')) {
    if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label)) return false;
  }
  // All-numeric dotted names are malformed IPv4 literals, not host names.
  return !/^[\d.]+$/.test(name);
}

interface HostPort {
  host: string;
  port: number | undefined;
}

/** Split `host`, `host:port`, `[v6]:port` or a bare IPv6 literal. Undefined when the text cannot be a host[:port]. */
export function splitHostPort(s: string): HostPort | undefined {
  if (s.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    if (m === null) return undefined;
    return { host: m[1]!, port: m[2] === undefined ? undefined : Number(m[2]) };
  }
  if (isIPv6(s)) return { host: s, port: undefined };
  const i = s.lastIndexOf(':');
  if (i < 0) return { host: s, port: undefined };
  const p = s.slice(i + 1);
  if (!/^\d+$/.test(p)) return undefined;
  return { host: s.slice(0, i), port: Number(p) };
}

export function isValidPort(p: number, allowZero = false): boolean {
  return Number.isInteger(p) && p <= 65535 && (allowZero ? p >= 0 : p >= 1);
}

/** Why a discovery URL is not a usable http(s) URL, or undefined when it is. */
export function httpUrlProblem(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `has scheme \`${u.protocol.slice(0, -1)}\`, not http or https`;
  if (u.hostname === '') return 'has no host';
  return undefined;
}
