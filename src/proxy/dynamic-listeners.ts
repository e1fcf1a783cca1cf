/**
 * The config `run` serves: the file's, plus what LDS and RDS made active. Listeners from LDS are added after the
 * file's (static) ones; a connection manager whose `rds` names a route configuration gets the one RDS delivered (an
 * empty one, answering 404 as Envoy's "no route", while it has not arrived and the initial fetch timeout has made
 * the listener active anyway). The result goes through the same generation build as a reload, so a route update
 * applies to new requests while requests in flight finish on the generation they started on.
 */
import type { Bootstrap, HttpConnectionManager, Listener, RouteConfiguration } from '../config/model.js';
import type { DynamicListeners } from '../discovery/xds.js';

function withRoutes(l: Listener, routes: ReadonlyMap<string, RouteConfiguration>): Listener {
  let changed = false;
  const chains = (l.filter_chains ?? []).map((fc) => {
    const filters = (fc.filters ?? []).map((f) => {
      const hcm = f.typed_config as HttpConnectionManager | undefined;
      const name = hcm?.rds?.route_config_name;
      if (hcm === undefined || name === undefined || hcm.route_config !== undefined) return f;
      changed = true;
      return { ...f, typed_config: { ...hcm, route_config: routes.get(name) ?? { name } } };
    });
    return { ...fc, filters };
  });
  return changed ? { ...l, filter_chains: chains } : l;
}

/** The file's config with the dynamic listeners added and every RDS reference resolved. */
export function composeConfig(file: Bootstrap, dynamic: DynamicListeners | undefined): Bootstrap {
  const routes = dynamic?.routes ?? new Map<string, RouteConfiguration>();
  const statics = file.static_resources?.listeners ?? [];
  const names = new Set(statics.map((l) => l.name).filter((n) => n !== undefined));
  for (const r of dynamic?.listeners ?? []) {
    // Envoy: a listener defined in the bootstrap cannot be modified or removed through LDS.
    if (names.has(r.name)) throw new Error(`listener ${r.name}: a static listener has that name; LDS cannot replace it`);
  }
  const listeners = [...statics.map((l) => withRoutes(l, routes)), ...(dynamic?.listeners ?? []).map((r) => withRoutes(r.value, routes))];
  if (listeners.every((l, i) => l === statics[i]) && listeners.length === statics.length) return file;
  return { ...file, static_resources: { ...file.static_resources, listeners } };
}

/** A listener's definition apart from its route configuration (a route update is not a listener update). */
export function listenerShape(l: Listener): string {
  return JSON.stringify(l, (k, v: unknown) => (k === 'route_config' ? undefined : v));
}
