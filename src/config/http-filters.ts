/**
 * Facts about a connection manager's http_filters that validate and run both need: which entry is the router, and
 * whether it is last (Envoy refuses a chain whose terminal filter, the router, is not the last one: "Error: terminal
 * filter named envoy.filters.http.router of type envoy.filters.http.router must be the last filter in a http filter
 * chain", source/common/config/utility.h validateTerminalFilters).
 */
import type { HttpConnectionManager, HttpFilter } from './model.js';

const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const ROUTER_NAMES: ReadonlySet<string> = new Set(['envoy.filters.http.router', 'envoy.router']);

/** The filter's typed_config @type, or undefined. */
export function filterTypeUrl(f: HttpFilter): string | undefined {
  const t = f.typed_config?.['@type'];
  return typeof t === 'string' ? t : undefined;
}

/** The router filter: by its typed_config @type, else (no typed_config) by its well-known name. */
export function isRouterFilter(f: HttpFilter): boolean {
  const t = filterTypeUrl(f);
  return t !== undefined ? t === ROUTER_TYPE : ROUTER_NAMES.has(f.name ?? '');
}

/** A router entry that is not the last filter of the chain (the first such), or undefined when the chain is right. */
export function routerNotLast(hcm: HttpConnectionManager): { filter: HttpFilter; index: number } | undefined {
  const fs = hcm.http_filters ?? [];
  for (let i = 0; i < fs.length - 1; i++) if (isRouterFilter(fs[i]!)) return { filter: fs[i]!, index: i };
  return undefined;
}
