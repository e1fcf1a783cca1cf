/**
 * A route's request/response header add and remove lists compiled once per route, applied weighted cluster → route →
 * virtual host → route configuration as Envoy does by default (see Envoy's docs, "HTTP header manipulation").
 */
import type { HeaderValueOption } from '../config/model.js';
import type { OutHeaders } from '../http/headers.js';

type Action = 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';

interface CompiledAdd {
  key: string;
  value: string;
  action: Action;
}

/** One level's mutations, compiled. `null` when a route has none (the request path then skips it). */
export interface HeaderMutation {
  readonly remove: readonly string[];
  readonly add: readonly CompiledAdd[];
}

export function compileMutation(
  levels: readonly { add?: readonly HeaderValueOption[] | undefined; remove?: readonly string[] | undefined }[],
): HeaderMutation | null {
  const remove: string[] = [];
  const add: CompiledAdd[] = [];
  for (const lvl of levels) {
    for (const r of lvl.remove ?? []) remove.push(r.toLowerCase());
    for (const o of lvl.add ?? []) {
      const key = o.header?.key?.toLowerCase();
      if (!key || key.startsWith(':') || key === 'host') continue;
      let action: Action = o.append_action ?? 'APPEND_IF_EXISTS_OR_ADD';
      // The deprecated `append: false` means overwrite.
      if (o.append_action === undefined && o.append === false) action = 'OVERWRITE_IF_EXISTS_OR_ADD';
      add.push({ key, value: o.header?.value ?? '', action });
    }
  }
  if (remove.length === 0 && add.length === 0) return null;
  return { remove, add };
}

export function applyMutation(h: OutHeaders, m: HeaderMutation): void {
  for (const r of m.remove) delete h[r];
  for (const a of m.add) {
    const cur = h[a.key];
    switch (a.action) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        if (cur === undefined) h[a.key] = a.value;
        else if (Array.isArray(cur)) h[a.key] = [...cur, a.value];
        else h[a.key] = a.key === 'set-cookie' ? [cur, a.value] : `${cur},${a.value}`;
        break;
      case 'ADD_IF_ABSENT':
        if (cur === undefined) h[a.key] = a.value;
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        h[a.key] = a.value;
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (cur !== undefined) h[a.key] = a.value;
        break;
    }
  }
}

