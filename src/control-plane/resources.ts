/**
 * A config as xDS resources, in Envoy's form (the Envoy emitter, what `meshctl convert --to envoy` writes):
 * - every listener as LDS, a listener with `api_listener` as it is (that is how gRPC's proxyless clients find a
 *   service by name); an HTTP connection manager's inline route_config becomes an RDS resource and the manager says
 *   `rds: {config_source: {ads: {}}, route_config_name}` instead;
 * - every cluster as CDS; a STATIC cluster's `load_assignment` becomes an EDS resource and the cluster is served as
 *   `type: EDS` with `eds_config: {ads: {}}` (gRPC takes endpoints only from EDS:
 *   https://github.com/grpc/proposal/blob/master/A27-xds-global-load-balancing.md).
 * Each resource is encoded once per config: its protobuf bytes, a content version (a hash of them), and the pieces of
 * a DiscoveryResponse / DeltaDiscoveryResponse that carry it, which every stream's response reuses.
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from '../config/json-value.js';
import type { Bootstrap } from '../config/model.js';
import { toEnvoy } from '../config/emit/envoy.js';
import type { WireCodec } from '../config/envoy-api/wire.js';
import {
  CLUSTER_TYPE,
  DELTA_DISCOVERY_RESPONSE,
  DISCOVERY_RESPONSE,
  ENDPOINT_TYPE,
  HCM_TYPE,
  LISTENER_TYPE,
  ROUTE_TYPE,
  kindOf,
  typeNameOf,
} from '../config/envoy-api/xds-protocol.js';

/** The four types, in the order Envoy wants them updated (CDS before EDS, LDS before RDS: ADS ordering in
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#eventual-consistency-considerations). */
export const RESOURCE_TYPES = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** The short name used in status, metrics and logs: the service's (`cds` for CDS). */
export const SHORT_TYPE = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, kindOf(t)!.toLowerCase()])) as Readonly<Record<ResourceType, string>>;

export function isResourceType(t: string): t is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(t);
}

type Obj = { [k: string]: JsonValue };

export interface Resource {
  readonly name: string;
  readonly json: Obj;
  /** The JSON as text: an unchanged resource of the next config is recognised by it and not encoded again. */
  readonly text: string;
  /** Content version: a hash of the encoded resource (equal bytes, equal version). */
  readonly version: string;
  /** A DiscoveryResponse holding only this resource (field `resources`), to concatenate. */
  readonly sotwEntry: Uint8Array;
  /** A DeltaDiscoveryResponse holding only this Resource (name, version, Any), to concatenate. */
  readonly deltaEntry: Uint8Array;
}

/** One type's resources, by name. */
type ResourceSet = ReadonlyMap<string, Resource>;

export type ResourceSets = Readonly<Record<ResourceType, ResourceSet>>;

function isObj(v: JsonValue | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objs(v: JsonValue | undefined): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

/** The config's resources as JSON (Envoy's form), by type and name. Pure: no encoding. */
export function resourcesJson(config: Bootstrap): Record<ResourceType, Map<string, Obj>> {
  const sr = toEnvoy(config).bootstrap.static_resources;
  const out: Record<ResourceType, Map<string, Obj>> = {
    [LISTENER_TYPE]: new Map(),
    [ROUTE_TYPE]: new Map(),
    [CLUSTER_TYPE]: new Map(),
    [ENDPOINT_TYPE]: new Map(),
  };
  const routes = out[ROUTE_TYPE];
  /** An inline route config moved to RDS: its name, made unique when two listeners use one name for different configs. */
  const toRds = (hcm: Obj, listener: string): Obj => {
    const rc = hcm.route_config;
    if (!isObj(rc)) return hcm;
    let name = typeof rc.name === 'string' && rc.name !== '' ? rc.name : listener;
    const same = (o: Obj | undefined): boolean => o !== undefined && JSON.stringify(o) === JSON.stringify({ ...rc, name });
    if (routes.has(name) && !same(routes.get(name))) name = `${listener}/${name}`;
    routes.set(name, { ...rc, name });
    const { route_config: _moved, ...rest } = hcm;
    return { ...rest, rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: name } };
  };
  const rewriteHcm = (typed: JsonValue | undefined, listener: string): JsonValue | undefined =>
    isObj(typed) && typed['@type'] === HCM_TYPE ? toRds(typed, listener) : typed;

  objs(isObj(sr) ? sr.listeners : undefined).forEach((l, i) => {
    const name = typeof l.name === 'string' && l.name !== '' ? l.name : `listener_${i}`;
    const listener: Obj = { ...l, name };
    if (Array.isArray(l.filter_chains)) {
      listener.filter_chains = objs(l.filter_chains).map((fc) => ({
        ...fc,
        filters: objs(fc.filters).map((f) => (f.typed_config === undefined ? f : { ...f, typed_config: rewriteHcm(f.typed_config, name)! })),
      }));
    }
    const api = l.api_listener;
    if (isObj(api) && api.api_listener !== undefined) listener.api_listener = { ...api, api_listener: rewriteHcm(api.api_listener, name)! };
    out[LISTENER_TYPE].set(name, listener);
  });

  for (const c of objs(isObj(sr) ? sr.clusters : undefined)) {
    const name = typeof c.name === 'string' ? c.name : '';
    const type = typeof c.type === 'string' ? c.type : 'STATIC';
    const la = c.load_assignment;
    if (type === 'STATIC' && isObj(la)) {
      const { load_assignment: _eds, type: _static, ...rest } = c;
      out[CLUSTER_TYPE].set(name, { ...rest, type: 'EDS', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } } });
      out[ENDPOINT_TYPE].set(name, forGrpc({ ...la, cluster_name: name }, c));
    } else out[CLUSTER_TYPE].set(name, c);
  }
  return out;
}

/**
 * A load assignment that gRPC's xDS clients take as Envoy does. gRPC refuses a LocalityLbEndpoints without a
 * `locality` and skips one without `load_balancing_weight` (gRFC A27,
 * https://github.com/grpc/proposal/blob/master/A27-xds-global-load-balancing.md), where Envoy takes both as absent
 * and, unless the cluster asks for locality-weighted balancing, mixes every locality's hosts by host weight. So an
 * unset locality is served as the empty one (Envoy's meaning of unset), and an unset locality weight, when the cluster
 * does not weigh localities, as the sum of its hosts' weights (default 1 each): the locality's share of a
 * host-weighted mix, and a field Envoy ignores in that mode.
 */
function forGrpc(cla: Obj, cluster: Obj): Obj {
  const clb = cluster.common_lb_config;
  const weighsLocalities = isObj(clb) && clb.locality_weighted_lb_config !== undefined;
  return {
    ...cla,
    endpoints: objs(cla.endpoints).map((e) => {
      const out: Obj = { ...e };
      if (out.locality === undefined) out.locality = {};
      if (!weighsLocalities && out.load_balancing_weight === undefined) {
        const hosts = objs(e.lb_endpoints).reduce((sum, h) => sum + (typeof h.load_balancing_weight === 'number' ? h.load_balancing_weight : 1), 0);
        if (hosts > 0) out.load_balancing_weight = hosts;
      }
      return out;
    }),
  };
}

/**
 * Resources encoded for the wire; a resource whose JSON is the same as in `previous` is taken from there (an edit of
 * one cluster encodes one cluster). Throws WireError when a value has no place in Envoy's message.
 */
export function encodeResources(json: Record<ResourceType, Map<string, Obj>>, codec: WireCodec, previous?: ResourceSets): ResourceSets {
  const out = {} as Record<ResourceType, Map<string, Resource>>;
  for (const typeUrl of RESOURCE_TYPES) {
    const message = typeNameOf(typeUrl);
    const set = new Map<string, Resource>();
    for (const [name, body] of json[typeUrl]) {
      const text = JSON.stringify(body);
      const same = previous?.[typeUrl].get(name);
      if (same !== undefined && same.text === text) {
        set.set(name, same);
        continue;
      }
      const bytes = codec.encode(message, body);
      const version = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
      const any = { '@type': typeUrl, ...body };
      set.set(name, {
        name,
        json: body,
        text,
        version,
        sotwEntry: codec.encode(DISCOVERY_RESPONSE, { resources: [any] }),
        deltaEntry: codec.encode(DELTA_DISCOVERY_RESPONSE, { resources: [{ name, version, resource: any }] }),
      });
    }
    out[typeUrl] = set;
  }
  return out;
}
