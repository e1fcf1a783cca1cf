/** Names and keys that Envoy requires to be unique. Each check is one map pass: the second occurrence is reported,
 * pointing back at the first. */
import { spanOf } from '../../config/node-meta.js';
import type { Listener, VirtualHost } from '../../config/model.js';
import { defineRule, type RuleContext } from '../rule.js';

interface Named {
  readonly name?: string;
}

function reportDuplicates<T extends Named>(
  ctx: RuleContext<'duplicate'>,
  items: readonly T[],
  what: string,
): void {
  const seen = new Map<string, T>();
  for (const item of items) {
    const name = item.name;
    if (name === undefined || name === '') continue;
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, item);
      continue;
    }
    ctx.report({
      messageId: 'duplicate',
      data: { what, name },
      at: spanOf(item, 'name'),
      hint: `rename one of them; names must be unique`,
      related: [{ message: `first ${what} named \`${name}\``, span: spanOf(first, 'name') }],
    });
  }
}

const DUP_MESSAGE = { duplicate: 'duplicate {{what}} name `{{name}}`' } as const;

export const duplicateListenerName = defineRule({
  id: 'duplicate-listener-name',
  severity: 'error',
  category: 'uniqueness',
  description: 'Two listeners have the same name.',
  messages: DUP_MESSAGE,
  check(ctx) {
    reportDuplicates(ctx, ctx.index.listeners, 'listener');
  },
});

export const duplicateClusterName = defineRule({
  id: 'duplicate-cluster-name',
  severity: 'error',
  category: 'uniqueness',
  description: 'Two clusters have the same name.',
  messages: DUP_MESSAGE,
  check(ctx) {
    reportDuplicates(ctx, ctx.index.clusters, 'cluster');
  },
});

export const duplicateRouteConfigName = defineRule({
  id: 'duplicate-route-config-name',
  severity: 'error',
  category: 'uniqueness',
  description:
    'Two route configurations share a name that an `rds` looks up. An inline route_config is not keyed by its name (several listeners may reuse one), so only names an RDS reference resolves must be unique.',
  messages: DUP_MESSAGE,
  check(ctx) {
    // Envoy keys route configurations by name only where RDS delivers them; an inline route_config's name is a
    // label for stats and config dumps. So the names that matter are those an `rds.route_config_name` asks for.
    const looked = new Set<string>();
    for (const { hcm } of ctx.index.hcms) {
      const n = hcm.rds?.route_config_name;
      if (n !== undefined && n !== '') looked.add(n);
    }
    if (looked.size === 0) return;
    reportDuplicates(
      ctx,
      ctx.index.routeConfigs.map((r) => r.rc).filter((rc) => rc.name !== undefined && looked.has(rc.name)),
      'route configuration',
    );
  },
});

export const duplicateVirtualHostName = defineRule({
  id: 'duplicate-virtual-host-name',
  severity: 'error',
  category: 'uniqueness',
  description: 'Two virtual hosts in one route configuration have the same name.',
  messages: DUP_MESSAGE,
  check(ctx) {
    for (const { rc } of ctx.index.routeConfigs) reportDuplicates(ctx, rc.virtual_hosts ?? [], 'virtual host');
  },
});

export const duplicateDomain = defineRule({
  id: 'duplicate-domain',
  severity: 'error',
  category: 'uniqueness',
  description: 'The same domain appears twice in one route configuration (Envoy rejects the config).',
  messages: {
    duplicate: 'domain `{{domain}}` already belongs to virtual host `{{first}}` in this route configuration',
    wildcard: 'only a single wildcard domain `*` is permitted in a route configuration; virtual host `{{first}}` already has one',
  },
  check(ctx) {
    for (const { rc } of ctx.index.routeConfigs) {
      // The first virtual host and index of each domain; spans only for what is reported (the parser builds them
      // from offsets when asked).
      const seen = new Map<string, { vh: VirtualHost; domain: string; index: number }>();
      for (const vh of rc.virtual_hosts ?? []) {
        (vh.domains ?? []).forEach((d, i) => {
          // Envoy compares domains lowercased.
          const key = d.toLowerCase();
          const first = seen.get(key);
          if (first === undefined) {
            seen.set(key, { vh, domain: d, index: i });
            return;
          }
          ctx.report({
            messageId: key === '*' ? 'wildcard' : 'duplicate',
            data: { domain: d, first: first.vh.name ?? '' },
            at: spanOf(vh, 'domains', i),
            hint: 'each domain may select only one virtual host; remove one of them',
            related: [{ message: `\`${first.domain}\` first appears here`, span: spanOf(first.vh, 'domains', first.index) }],
          });
        });
      }
    }
  },
});

export const duplicateListenerAddress = defineRule({
  id: 'duplicate-listener-address',
  severity: 'error',
  category: 'uniqueness',
  description: 'Two listeners bind the same address and port.',
  messages: {
    duplicate: 'listener `{{name}}` binds {{address}}, which listener `{{first}}` already binds',
  },
  check(ctx) {
    const seen = new Map<string, Listener>();
    for (const l of ctx.index.listeners) {
      const sa = l.address?.socket_address;
      let key: string;
      let shown: string;
      if (sa !== undefined) {
        const port = sa.port_value ?? 0;
        // Port 0 asks the kernel for a fresh port each time, so it never clashes.
        if (port === 0 || sa.address === undefined) continue;
        const host = sa.address.toLowerCase();
        shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
        key = `${sa.protocol ?? 'TCP'} ${shown}`;
      } else if (l.address?.pipe?.path !== undefined) {
        shown = l.address.pipe.path;
        key = `pipe ${shown}`;
      } else continue;
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, l);
        continue;
      }
      ctx.report({
        messageId: 'duplicate',
        data: { name: l.name ?? '', address: shown, first: first.name ?? '' },
        at: spanOf(l, 'address'),
        hint: 'give each listener its own port',
        related: [{ message: `\`${shown}\` is first bound here`, span: spanOf(first, 'address') }],
      });
    }
  },
});
