/**
 * `--map-endpoint FROM=TO`: rewrite endpoint addresses so a config written for a cluster network (the article's
 * 10.244.0.2:8080) runs against local servers. FROM and TO are `ip:port` or a bare `ip` (any port, port kept).
 */
import type { Bootstrap } from '../config/model.js';
import { UsageError } from '../config/usage-error.js';

interface EndpointMapping {
  readonly fromIp: string;
  readonly fromPort: number | undefined;
  readonly toIp: string;
  readonly toPort: number | undefined;
}

function splitHostPort(s: string): { ip: string; port: number | undefined } | undefined {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { ip: v6[1]!, port: v6[2] !== undefined ? Number(v6[2]) : undefined };
  const parts = s.split(':');
  if (parts.length === 1 && parts[0] !== '') return { ip: parts[0]!, port: undefined };
  if (parts.length === 2 && parts[0] !== '' && /^\d+$/.test(parts[1]!)) return { ip: parts[0]!, port: Number(parts[1]) };
  return undefined;
}

export function parseMapping(text: string): EndpointMapping {
  const eq = text.indexOf('=');
  if (eq < 0) throw new UsageError(`--map-endpoint expects FROM=TO (ip:port=ip:port), got \`${text}\``);
  const from = splitHostPort(text.slice(0, eq).trim());
  const to = splitHostPort(text.slice(eq + 1).trim());
  if (from === undefined || to === undefined) throw new UsageError(`--map-endpoint: cannot read \`${text}\` (expected ip:port=ip:port)`);
  for (const p of [from.port, to.port]) {
    if (p !== undefined && (p < 0 || p > 65535)) throw new UsageError(`--map-endpoint: port out of range in \`${text}\``);
  }
  return { fromIp: from.ip, fromPort: from.port, toIp: to.ip, toPort: to.port };
}

/** The rewrite function for the cluster manager; exact ip:port mappings win over ip-only ones. */
export function endpointMapper(mappings: readonly EndpointMapping[]): ((ip: string, port: number) => { ip: string; port: number }) | undefined {
  if (mappings.length === 0) return undefined;
  const exact = new Map<string, EndpointMapping>();
  const byIp = new Map<string, EndpointMapping>();
  for (const m of mappings) {
    if (m.fromPort !== undefined) exact.set(`${m.fromIp}|${m.fromPort}`, m);
    else byIp.set(m.fromIp, m);
  }
  return (ip, port) => {
    const m = exact.get(`${ip}|${port}`) ?? byIp.get(ip);
    if (m === undefined) return { ip, port };
    return { ip: m.toIp, port: m.toPort ?? port };
  };
}

/** Every static endpoint of the config as `ip:port`, with what the mapping turns it into. */
export function mappedEndpoints(
  config: Bootstrap,
  map: ((ip: string, port: number) => { ip: string; port: number }) | undefined,
): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const c of config.static_resources?.clusters ?? []) {
    for (const loc of c.load_assignment?.endpoints ?? []) {
      for (const e of loc.lb_endpoints ?? []) {
        const sa = e.endpoint?.address?.socket_address;
        if (!sa?.address) continue;
        const port = sa.port_value ?? 0;
        const to = map ? map(sa.address, port) : { ip: sa.address, port };
        out.push({ from: `${sa.address}:${port}`, to: `${to.ip}:${to.port}` });
      }
    }
  }
  return out;
}

export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip === 'localhost';
}
