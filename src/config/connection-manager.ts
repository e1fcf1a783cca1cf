/**
 * Which filters of a listener are HTTP connection managers, decided in one place for validate, simulate and run.
 * The decoder models a network filter's typed_config as a connection manager and keeps any other extension's
 * typed_config verbatim (src/config/normalize.ts), so a filter with a modelled typed_config is a connection manager.
 */
import type { FilterChain, HttpConnectionManager, Listener } from './model.js';

/** The connection managers of one filter chain, in filter order (validate checks each). */
export function chainConnectionManagers(chain: FilterChain): HttpConnectionManager[] {
  const out: HttpConnectionManager[] = [];
  for (const f of chain.filters ?? []) if (f.typed_config !== undefined) out.push(f.typed_config);
  return out;
}

/**
 * The connection manager that serves the listener's requests: the first one, in filter-chain order. meshctl serves
 * one connection manager per listener; filter chains that differ in their TLS certificate (SNI) share it.
 */
export function connectionManager(listener: Listener): HttpConnectionManager | undefined {
  for (const chain of listener.filter_chains ?? []) {
    const first = chainConnectionManagers(chain)[0];
    if (first !== undefined) return first;
  }
  return undefined;
}

/**
 * The name a listener goes by in reports, routing and stats: its own, else `listener_<index>` (Envoy would assign an
 * internal UUID to an unnamed listener; an index keeps `simulate --listener` and run's logs readable and alike).
 */
export function listenerName(listener: Listener, index: number): string {
  return listener.name ?? `listener_${index}`;
}
