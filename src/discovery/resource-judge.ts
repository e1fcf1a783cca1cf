/**
 * Every resource a control plane sends is judged by the validator that judges a file (`meshctl validate`: the
 * parser, Envoy's own API constraints, meshctl's rules), so a resource that would be refused in a file is refused
 * over xDS too, and the NACK says why (rule id and message, per resource). The resources of one response are judged
 * in one pass: they are written into one Envoy bootstrap, one resource per line, so each diagnostic's line names its
 * resource. A RouteConfiguration (which has no place of its own in a bootstrap) is judged inside a listener's
 * connection manager; a ClusterLoadAssignment as a STATIC cluster's load_assignment (EDS endpoints, like static
 * ones, must be IP addresses: Envoy does not resolve them).
 *
 * Rules that look across resources are left out: over xDS the other side of a reference arrives in another
 * response, and Envoy accepts an RDS route to a cluster it does not know yet (RouteConfiguration.validate_clusters
 * defaults to false for RDS; the request then gets 503 NC), so only a resource's own faults make a NACK.
 */
import { parseConfig } from '../config/index.js';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../config/model.js';
import { connectionManager } from '../config/connection-manager.js';
import { RUN_IGNORED } from '../config/run-fate/rule-ids.js';
import { validateParsed } from '../validate/index.js';
import { HCM_TYPE, type ResourceJson, type XdsKind } from '../config/envoy-api/xds-protocol.js';
import { resourceName } from './xds-resources.js';

/** Rules whose subject is another resource (a cluster a route names, a route config an rds names, ...). */
const CROSS_RESOURCE_RULES = [
  // The session's own bootstrap has the ads_config; the wrapper a resource is judged in does not.
  'ads-without-ads-config',
  'route-unknown-cluster',
  'reference-unknown-cluster',
  'discovery-unknown-cluster',
  'rds-unknown-route-config',
  'unused-cluster',
  'load-assignment-name-mismatch',
];

export interface ModelOf {
  CDS: Cluster;
  EDS: ClusterLoadAssignment;
  LDS: Listener;
  RDS: RouteConfiguration;
}

export interface JudgedResources<K extends XdsKind> {
  /** Each resource's model, by name (complete only when `errors` is empty). */
  readonly values: Map<string, ModelOf[K]>;
  /** One line per problem: `cluster od: [invalid-cluster-config] …`. */
  readonly errors: string[];
  /** What meshctl run accepts and does not act on (run-ignored), one line each, for the log. */
  readonly warnings: string[];
}

const NOUN: Readonly<Record<XdsKind, string>> = { CDS: 'cluster', EDS: 'load assignment', LDS: 'listener', RDS: 'route configuration' };

const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** lowerCamelCase keys → snake_case (proto3 JSON writers may use either; REST bodies often camelCase). */
const OPAQUE = new Set(['typed_extension_protocol_options', 'metadata', 'filter_metadata', 'typed_filter_metadata', 'typed_per_filter_config']);

export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = k.startsWith('@') ? k : k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
    out[key] = OPAQUE.has(key) ? v : snakeKeys(v);
  }
  return out;
}

/** The bootstrap line that holds resource `i` of `kind`. */
function wrap(kind: XdsKind, body: Record<string, unknown>, i: number): unknown {
  if (kind === 'CDS' || kind === 'LDS') return body;
  if (kind === 'EDS') return { name: body.cluster_name ?? `eds_${i}`, type: 'STATIC', connect_timeout: '1s', load_assignment: body };
  return {
    name: `rds_${i}`,
    // Distinct ports, so that the wrappers never collide with each other (duplicate-listener-address).
    address: { socket_address: { address: '127.0.0.1', port_value: 1024 + (i % 60000) } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: { '@type': HCM_TYPE, stat_prefix: 'rds', route_config: body, http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }] },
          },
        ],
      },
    ],
  };
}

/** Judge the resources of one response (already typed as `kind`); `origin` names them in diagnostics. */
export function judgeResources<K extends XdsKind>(kind: K, resources: readonly ResourceJson[], origin = 'xds'): JudgedResources<K> {
  const errors: string[] = [];
  const names: string[] = [];
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const [i, r] of resources.entries()) {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      errors.push(`resources[${i}]: a ${NOUN[kind]} must be an object`);
      continue;
    }
    const { ['@type']: _t, ...body } = snakeKeys(r) as Record<string, unknown>;
    const name = resourceName(kind, body);
    if (name === undefined) errors.push(`resources[${i}]: a ${NOUN[kind]} needs a ${kind === 'EDS' ? 'cluster_name' : 'name'}`);
    else if (seen.has(name)) errors.push(`${NOUN[kind]} ${name}: sent twice in one response`);
    else seen.add(name);
    names.push(name ?? `#${i}`);
    lines.push(JSON.stringify(wrap(kind, body, i)));
  }
  const values = new Map<string, ModelOf[K]>();
  const warnings: string[] = [];
  if (lines.length === 0 || errors.length > 0) return { values, errors, warnings };
  const section = kind === 'LDS' || kind === 'RDS' ? 'listeners' : 'clusters';
  // Line 1 opens the list; resource i is on line i + 2.
  const text = `{"static_resources":{"${section}":[\n${lines.join(',\n')}\n]}}\n`;
  const parsed = parseConfig(text, `${origin}:${kind}`, { from: 'envoy' });
  // Held to what meshctl run does (src/config/run-fate), as the same element in a file is: what run cannot enforce
  // (run-refused) refuses the update, what it does not act on (run-ignored) is logged.
  for (const d of validateParsed(parsed, { disable: CROSS_RESOURCE_RULES, target: 'run' })) {
    if (d.severity !== 'error' && d.ruleId !== RUN_IGNORED) continue;
    const who = names[d.span.line - 2];
    (d.severity === 'error' ? errors : warnings).push(`${who !== undefined ? `${NOUN[kind]} ${who}` : 'response'}: [${d.ruleId}] ${d.message}`);
  }
  if (errors.length > 0) return { values, errors, warnings };
  const sr = parsed.config?.static_resources;
  for (const [i, name] of names.entries()) {
    const value = modelAt(kind, sr, i);
    if (value === undefined) errors.push(`${NOUN[kind]} ${name}: not understood`);
    else values.set(name, value as ModelOf[K]);
  }
  return { values, errors, warnings };
}

function modelAt(kind: XdsKind, sr: { clusters?: Cluster[]; listeners?: Listener[] } | undefined, i: number): ModelOf[XdsKind] | undefined {
  if (kind === 'CDS') return sr?.clusters?.[i];
  if (kind === 'EDS') return sr?.clusters?.[i]?.load_assignment;
  if (kind === 'LDS') return sr?.listeners?.[i];
  const l = sr?.listeners?.[i];
  return l === undefined ? undefined : connectionManager(l)?.route_config;
}
