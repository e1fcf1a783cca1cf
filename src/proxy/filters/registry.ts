/**
 * The HTTP filters meshctl run builds, found by the typed_config @type (Envoy's way) or, for an entry written with a
 * name only, by the filter's well-known name. A filter found in neither is not built: its fate (refused, or skipped
 * when is_optional) is decided with the rest of the config's at start-up.
 */
import { compressorFactory } from './compressor.js';
import { corsFactory } from './cors.js';
import { faultFactory } from './fault.js';
import { healthCheckFactory } from './health-check.js';
import { localRateLimitFactory } from './local-ratelimit.js';
import { rbacFactory } from './rbac.js';
import type { FilterFactory } from './types.js';

/** A factory with its per-route type forgotten: the chain hands each filter back only what that filter compiled. */
function erased<P>(f: FilterFactory<P>): FilterFactory {
  return f as unknown as FilterFactory;
}

const FACTORIES: readonly FilterFactory[] = [erased(rbacFactory), erased(localRateLimitFactory), erased(faultFactory), erased(healthCheckFactory), erased(corsFactory), erased(compressorFactory)];

const BY_TYPE = new Map<string, FilterFactory>();
const BY_NAME = new Map<string, FilterFactory>();
for (const f of FACTORIES) {
  for (const t of f.typeUrls) BY_TYPE.set(t, f);
  for (const n of f.names) BY_NAME.set(n, f);
}

/** The factory of an http_filters entry: by its @type when it has a typed_config, else by its name. */
export function factoryFor(typeUrl: string | undefined, name: string | undefined): FilterFactory | undefined {
  return typeUrl !== undefined ? BY_TYPE.get(typeUrl) : BY_NAME.get(name ?? '');
}

/** The typed_config type names (after `type.googleapis.com/`) of the filters the chain builds, the router aside. */
export const BUILT_HTTP_FILTER_TYPES: readonly string[] = [...BY_TYPE.keys()].map((t) => t.slice(t.lastIndexOf('/') + 1));
