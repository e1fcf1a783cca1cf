/**
 * What every discovery source (DNS, the refresh service, xDS) hands the cluster manager: the full endpoint set of a
 * cluster each time it changes. The cluster manager maps addresses (`--map-endpoint`) and applies the set through
 * HostSet.replace, so hosts that stay keep their health and counters and in-flight requests are never dropped.
 */
import type { HostInit } from '../balancer/types.js';
import type { Clock, Random } from '../balancer/types.js';
import type { Timers } from '../time/timers.js';

export type EndpointSink = (hosts: readonly HostInit[]) => void;

export interface DiscoveryHandle {
  /** Resolves after the first attempt, success or failure (Envoy finishes cluster init either way). */
  readonly ready: Promise<void>;
  close(): void;
}

export interface DiscoveryDeps {
  readonly timers: Timers;
  readonly clock: Clock;
  /** Back-off jitter: the proxy's seeded stream (`--seed`), so a seeded run retries on the same schedule. */
  readonly random: Random;
  readonly log?: (line: string) => void;
}

/** Exponential back-off: base × 2^failures, capped at max, jittered to between half and all of that. */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  return Math.max(baseMs / 2, ceiling * (0.5 + random.next() / 2));
}
