/**
 * Where DNS queries go. The article's snippet names 8.8.8.8 as the nameserver, and `meshctl run` sends the names of
 * STRICT_DNS / LOGICAL_DNS clusters to whatever the config names (config/dns-resolver-config.ts), or to the system
 * resolver when it names none (Envoy's c-ares resolver reads /etc/resolv.conf then). Validating a config should say
 * so before `run` does it, with the flag that sends the queries elsewhere.
 */
import { dnsResolverFor, resolvesThroughDns } from '../../config/dns-resolver-config.js';
import type { Cluster } from '../../config/model.js';
import { spanOf } from '../../config/node-meta.js';
import { defineRule } from '../rule.js';
import { isIpLiteral, splitHostPort } from '../util/net.js';

/** The flag that overrides the config's nameservers (src/cli/commands/run.ts). */
const OVERRIDE_HINT = '`meshctl run --dns-server IP[:PORT]` sends every DNS query there instead (a resolver on 127.0.0.1 for local tests)';

/** Addresses whose queries stay on this machine or this network: loopback, private, link-local, unique-local. */
function isLocalResolver(server: string): boolean {
  const host = (splitHostPort(server)?.host ?? server).toLowerCase();
  return /^(?:127\.|10\.|192\.168\.|169\.254\.|172\.(?:1[6-9]|2\d|3[01])\.)/.test(host) || host === '::1' || /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host);
}

/** A nameserver invalid-nameserver accepts; a config with another gets that error, not a note on where it goes. */
function isServer(server: string): boolean {
  const hp = splitHostPort(server);
  return hp !== undefined && isIpLiteral(hp.host);
}

function describe(servers: readonly string[]): { list: string; publicNote: string } {
  const list = servers.map((s) => `\`${s}\``).join(', ');
  const outside = servers.filter((s) => !isLocalResolver(s));
  const publicNote = outside.length === 0 ? '' : `, ${outside.length === 1 ? 'a resolver' : 'resolvers'} outside this network: the names leave this machine`;
  return { list, publicNote };
}

function names(clusters: readonly Cluster[]): string {
  return clusters.map((c) => `\`${c.name ?? ''}\``).join(', ');
}

export const dnsResolver = defineRule({
  id: 'dns-resolver',
  severity: 'info',
  category: 'value',
  description: 'Where the DNS queries of STRICT_DNS / LOGICAL_DNS clusters go: the configured nameservers or the system resolver.',
  messages: {
    bootstrap: 'DNS queries of {{users}} go to {{servers}} (dns_query.nameservers){{publicNote}}',
    unused: 'DNS queries would go to {{servers}} (dns_query.nameservers){{publicNote}}; no STRICT_DNS or LOGICAL_DNS cluster resolves names yet',
    own: 'cluster `{{name}}` sends its DNS queries to {{servers}} ({{from}}){{publicNote}}',
    system: 'cluster `{{name}}` resolves its endpoints with the system resolver (/etc/resolv.conf): the config names no nameservers',
  },
  check(ctx) {
    const dnsClusters = ctx.index.clusters.filter(resolvesThroughDns);
    const viaBootstrap: Cluster[] = [];
    for (const c of dnsClusters) {
      const ns = dnsResolverFor(c, ctx.config);
      if (ns.from === 'bootstrap dns_query') {
        viaBootstrap.push(c);
        continue;
      }
      const at = spanOf(c, 'type');
      if (ns.servers === undefined) {
        ctx.report({ messageId: 'system', data: { name: c.name ?? '' }, at, hint: OVERRIDE_HINT });
        continue;
      }
      if (!ns.servers.every(isServer)) continue;
      const d = describe([...ns.servers]);
      ctx.report({ messageId: 'own', data: { name: c.name ?? '', servers: d.list, from: ns.from.startsWith('bootstrap ') ? `the bootstrap's ${ns.from.slice(10)}` : `its ${ns.from.replace('cluster ', '')}`, publicNote: d.publicNote }, at, hint: OVERRIDE_HINT });
    }
    const q = ctx.config.dns_query;
    const servers = q?.nameservers?.filter((s) => s !== '') ?? [];
    if (servers.length === 0 || !servers.every(isServer)) return;
    const d = describe(servers);
    const data = { servers: d.list, publicNote: d.publicNote, users: `cluster${viaBootstrap.length === 1 ? '' : 's'} ${names(viaBootstrap)}` };
    ctx.report({ messageId: viaBootstrap.length === 0 ? 'unused' : 'bootstrap', data, at: spanOf(q, 'nameservers'), hint: OVERRIDE_HINT });
  },
});
