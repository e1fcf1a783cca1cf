/** Ports, IP literals, DNS names, nameservers and URLs. */
import { spanOf } from '../../config/node-meta.js';
import type { Address, Cluster, DnsQuery } from '../../config/model.js';
import type { Span } from '../../config/source.js';
import { defineRule, type RuleContext } from '../rule.js';
import { httpUrlProblem, isDnsName, isIpLiteral, isValidPort, splitHostPort } from '../util/net.js';

function clusterType(c: Cluster): string {
  return c.type ?? 'STATIC';
}

/** Every endpoint socket address of a cluster, with its cluster. */
function* endpointAddresses(clusters: readonly Cluster[]): Generator<{ cluster: Cluster; address: Address }> {
  for (const cluster of clusters) {
    for (const loc of cluster.load_assignment?.endpoints ?? []) {
      for (const lb of loc.lb_endpoints ?? []) {
        const address = lb.endpoint?.address;
        if (address !== undefined) yield { cluster, address };
      }
    }
  }
}

export const invalidPort = defineRule({
  id: 'invalid-port',
  severity: 'error',
  category: 'value',
  description: 'A port outside 1–65535 (0 is allowed only where Envoy picks a port: listeners and admin).',
  messages: {
    range: 'port {{port}} is out of range (1–65535)',
    zero: 'port 0 is not allowed for {{what}}',
  },
  check(ctx) {
    const checkAddr = (a: Address | undefined, what: string, allowZero: boolean): void => {
      const sa = a?.socket_address;
      if (sa?.port_value === undefined) return;
      const p = sa.port_value;
      if (isValidPort(p, allowZero)) return;
      ctx.report({
        messageId: p === 0 ? 'zero' : 'range',
        data: { port: p, what },
        at: spanOf(sa, 'port_value'),
      });
    };
    for (const l of ctx.index.listeners) checkAddr(l.address, 'a listener', true);
    checkAddr(ctx.config.admin?.address, 'the admin server', true);
    checkAddr(ctx.config.http_server?.address, 'the metrics server', true);
    for (const { address } of endpointAddresses(ctx.index.clusters)) checkAddr(address, 'an endpoint', false);
    for (const c of ctx.index.clusters) for (const r of c.dns_resolvers ?? []) checkAddr(r, 'a DNS resolver', false);
  },
});

export const invalidAddress = defineRule({
  id: 'invalid-address',
  severity: 'error',
  category: 'value',
  description: 'An address that is not a well-formed IP literal or DNS name (listeners need IP literals).',
  messages: {
    listenerIp: 'listener address `{{address}}` is not an IP literal (Envoy binds listeners to IP addresses only)',
    host: '`{{address}}` is neither an IP literal nor a well-formed DNS name',
    hostPort: '`{{address}}` is not a `host:port` address',
  },
  check(ctx) {
    const ipOnly = (a: Address | undefined): void => {
      const sa = a?.socket_address;
      if (sa?.address === undefined || isIpLiteral(sa.address)) return;
      ctx.report({
        messageId: 'listenerIp',
        data: { address: sa.address },
        at: spanOf(sa, 'address'),
        hint: isDnsName(sa.address) ? 'use `0.0.0.0` (all IPv4 interfaces) or a specific IP' : undefined,
      });
    };
    for (const l of ctx.index.listeners) ipOnly(l.address);
    ipOnly(ctx.config.admin?.address);
    ipOnly(ctx.config.http_server?.address);
    for (const { cluster, address } of endpointAddresses(ctx.index.clusters)) {
      // STATIC clusters have their own rule (static-cluster-needs-ip).
      if (clusterType(cluster) === 'STATIC') continue;
      const sa = address.socket_address;
      if (sa?.address === undefined || isIpLiteral(sa.address) || isDnsName(sa.address)) continue;
      ctx.report({ messageId: 'host', data: { address: sa.address }, at: spanOf(sa, 'address') });
    }
    for (const sc of ctx.config.http_server?.prometheus?.scrape_configs ?? []) {
      for (const ep of sc.endpoints ?? []) {
        if (ep.address === undefined) continue;
        const hp = splitHostPort(ep.address);
        if (hp === undefined || hp.port === undefined || !(isIpLiteral(hp.host) || isDnsName(hp.host))) {
          ctx.report({ messageId: 'hostPort', data: { address: ep.address }, at: spanOf(ep, 'address'), hint: 'write it as `host:port`, e.g. `127.0.0.1:8080`' });
        } else if (!isValidPort(hp.port)) {
          ctx.report({ messageId: 'hostPort', data: { address: ep.address }, at: spanOf(ep, 'address'), hint: 'the port must be 1–65535' });
        }
      }
    }
  },
});

export const staticClusterNeedsIp = defineRule({
  id: 'static-cluster-needs-ip',
  severity: 'error',
  category: 'value',
  description: 'A STATIC cluster endpoint is a host name; STATIC clusters take IP literals only.',
  messages: {
    notIp: 'cluster `{{cluster}}` is STATIC, but endpoint address `{{address}}` is not an IP literal',
  },
  check(ctx) {
    for (const { cluster, address } of endpointAddresses(ctx.index.clusters)) {
      if (clusterType(cluster) !== 'STATIC') continue;
      const sa = address.socket_address;
      if (sa?.address === undefined || isIpLiteral(sa.address)) continue;
      ctx.report({
        messageId: 'notIp',
        data: { cluster: cluster.name ?? '', address: sa.address },
        at: spanOf(sa, 'address'),
        hint: isDnsName(sa.address) ? 'set the cluster `type` to STRICT_DNS or LOGICAL_DNS to resolve host names' : undefined,
      });
    }
  },
});

export const invalidNameserver = defineRule({
  id: 'invalid-nameserver',
  severity: 'error',
  category: 'value',
  description: 'A DNS nameserver that is not an IP literal (optionally with a port).',
  messages: {
    notIp: 'nameserver `{{value}}` is not an IP literal (nameservers cannot be host names)',
    port: 'nameserver `{{value}}` has an invalid port',
  },
  check(ctx) {
    const check = (q: DnsQuery | undefined): void => {
      (q?.nameservers ?? []).forEach((ns, i) => {
        const at: Span | undefined = spanOf(q, 'nameservers', i);
        const hp = splitHostPort(ns);
        if (hp === undefined || !isIpLiteral(hp.host)) {
          ctx.report({ messageId: 'notIp', data: { value: ns }, at, hint: 'write `8.8.8.8`, `127.0.0.1:5353` or `[::1]:53`' });
        } else if (hp.port !== undefined && !isValidPort(hp.port)) {
          ctx.report({ messageId: 'port', data: { value: ns }, at });
        }
      });
    };
    check(ctx.config.dns_query);
    for (const c of ctx.index.clusters) {
      check(c.dns_query);
      for (const r of c.dns_resolvers ?? []) {
        const sa = r.socket_address;
        if (sa?.address !== undefined && !isIpLiteral(sa.address)) {
          ctx.report({ messageId: 'notIp', data: { value: sa.address }, at: spanOf(sa, 'address') });
        }
      }
    }
  },
});

export const invalidDiscoveryUrl = defineRule({
  id: 'invalid-discovery-url',
  severity: 'error',
  category: 'value',
  description: 'A discovery refresh service URL that is not a valid http(s) URL.',
  messages: {
    bad: 'service_url `{{url}}` {{problem}}',
    missing: 'discovery refresh service `{{service}}` has no service_url',
  },
  check(ctx) {
    for (const s of ctx.index.refreshServices) {
      if (s.service_url === undefined || s.service_url === '') {
        ctx.report({ messageId: 'missing', data: { service: s.service_name ?? '' }, at: spanOf(s) });
        continue;
      }
      const problem = httpUrlProblem(s.service_url);
      if (problem !== undefined) {
        ctx.report({ messageId: 'bad', data: { url: s.service_url, problem }, at: spanOf(s, 'service_url'), hint: 'for example `http://127.0.0.1:8081/cluster/NAME`' });
      }
    }
  },
});

export const privilegedPort = defineRule({
  id: 'privileged-port',
  severity: 'info',
  category: 'privileges',
  description: 'A listener port below 1024 needs root or CAP_NET_BIND_SERVICE to bind.',
  messages: {
    low: 'listener `{{name}}` binds port {{port}}, which needs root or CAP_NET_BIND_SERVICE',
  },
  check(ctx) {
    for (const l of ctx.index.listeners) {
      const sa = l.address?.socket_address;
      const p = sa?.port_value;
      if (p === undefined || p === 0 || p >= 1024) continue;
      ctx.report({
        messageId: 'low',
        data: { name: l.name ?? '', port: p },
        at: spanOf(sa, 'port_value'),
        hint: 'run with that capability, or listen on a port ≥ 1024 for local testing',
      });
    }
  },
});

export type { RuleContext };

export const exposedAdmin = defineRule({
  id: 'admin-exposed',
  severity: 'warning',
  category: 'privileges',
  description: 'The admin interface listens on a non-loopback address; anyone who reaches it can drain listeners, fail health checks or stop the proxy.',
  messages: {
    exposed: 'the admin interface listens on {{address}}, reachable from other machines; its POST endpoints can drain listeners and stop the proxy',
  },
  check(ctx) {
    const sa = ctx.config.admin?.address?.socket_address;
    const a = sa?.address;
    if (a === undefined) return;
    const loopback = /^127\./.test(a) || a === '::1' || a.toLowerCase() === 'localhost';
    if (loopback) return;
    ctx.report({
      messageId: 'exposed',
      data: { address: a.includes(':') ? `[${a}]:${sa?.port_value ?? 0}` : `${a}:${sa?.port_value ?? 0}` },
      at: spanOf(sa, 'address'),
      hint: 'bind it to 127.0.0.1 and reach it through a tunnel or a sidecar',
    });
  },
});
