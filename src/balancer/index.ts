/**
 * The shared balancer: `createBalancer(cluster, hosts, random)` returns the policy the cluster names, wrapped in
 * Envoy's priority / panic pipeline. `meshctl simulate` and `meshctl run` both use exactly this.
 *
 * Pick path: (1) rebuild lazily if the host set's version moved; (2) choose a slot (priority × healthy/degraded, or
 * the whole priority in panic) with hash % 100 + 1 against the cumulative loads — skipped when one slot carries
 * 100%; (3) the policy's picker for that slot chooses the host; (4) hosts in `exclude` are skipped when another exists.
 */
import type { Cluster } from '../config/model.js';
import { type PriorityPlan, type Slot, chooseSlot, planPriorities, planWithLoads } from './priority.js';
import type { PickerDeps, PickerFactory, SourcePicker } from './policies/picker.js';
import { leastRequest } from './policies/least-request.js';
import { localityWeighted } from './policies/locality.js';
import { DEFAULT_MAGLEV_TABLE_SIZE, isPrime, maglev } from './policies/maglev.js';
import { randomPolicy } from './policies/random.js';
import { MAX_RING_SIZE, ringHash } from './policies/ring-hash.js';
import { roundRobin } from './policies/round-robin.js';
import { nextU53 } from './random.js';
import type { Balancer, Host, HostSetView, PickContext, Random } from './types.js';

export type { Balancer, Clock, Host, HostHealth, HostInit, HostSetView, PickContext, Random } from './types.js';
export { HostSet, hostsFromCluster, formatAddress, healthFromStatus } from './host-set.js';
export { SeededRandom, createRandom, randomFromEntropy } from './random.js';
export { xxHash64, combineHashes } from './xxhash64.js';
export { murmurHash2 } from './murmur2.js';
export { planPriorities, planWithLoads } from './priority.js';
export { PreviousPriorities, type PriorityLoad } from './retry-priority.js';
export type { PriorityPlan, Slot } from './priority.js';

type LbPolicyName = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RING_HASH' | 'RANDOM' | 'MAGLEV';

interface BalancerOptions {
  /**
   * Envoy's per-LB `seed_`, which sets where round robin starts (equal weights: the first index; EDF: the number of
   * warm-up picks, seed % hosts). Default: drawn from `random`. Tests pass 0 for the textbook sequence.
   */
  readonly seed?: number;
  /** meshctl's variant of RANDOM that honours endpoint weights (Envoy ignores them). Default false. */
  readonly weightedRandom?: boolean;
}

/** The resolved settings a balancer runs with (defaults applied), also shown by `simulate`. */
interface BalancerSettings {
  readonly policy: LbPolicyName;
  readonly panicThreshold: number;
  readonly overprovisioningFactor: number;
  readonly choiceCount: number;
  readonly activeRequestBias: number;
  readonly minimumRingSize: number;
  readonly maximumRingSize: number;
  readonly ringHashFunction: 'XX_HASH' | 'MURMUR_HASH_2';
  readonly maglevTableSize: number;
  readonly weightedRandom: boolean;
  /** common_lb_config.locality_weighted_lb_config is set (round robin, least request and random only). */
  readonly localityWeighted: boolean;
}

function balancerSettings(cluster: Cluster, opts: BalancerOptions = {}): BalancerSettings {
  const raw = cluster.lb_policy ?? 'ROUND_ROBIN';
  // CLUSTER_PROVIDED has no meaning without an original-destination cluster; fall back to Envoy's default policy.
  const policy: LbPolicyName = raw === 'CLUSTER_PROVIDED' ? 'ROUND_ROBIN' : raw;
  const panicRaw = cluster.common_lb_config?.healthy_panic_threshold?.value;
  const table = cluster.maglev_lb_config?.table_size;
  return {
    policy,
    panicThreshold: panicRaw === undefined ? 50 : Math.min(100, Math.max(0, Math.trunc(panicRaw))),
    overprovisioningFactor: cluster.load_assignment?.policy?.overprovisioning_factor || 140,
    choiceCount: Math.max(2, cluster.least_request_lb_config?.choice_count ?? 2),
    activeRequestBias: cluster.least_request_lb_config?.active_request_bias ?? 1,
    minimumRingSize: Math.min(cluster.ring_hash_lb_config?.minimum_ring_size || 1024, MAX_RING_SIZE),
    maximumRingSize: Math.min(cluster.ring_hash_lb_config?.maximum_ring_size || MAX_RING_SIZE, MAX_RING_SIZE),
    ringHashFunction: cluster.ring_hash_lb_config?.hash_function ?? 'XX_HASH',
    maglevTableSize: table !== undefined && isPrime(table) && table <= 5000011 ? table : DEFAULT_MAGLEV_TABLE_SIZE,
    weightedRandom: opts.weightedRandom ?? false,
    localityWeighted: cluster.common_lb_config?.locality_weighted_lb_config !== undefined,
  };
}

function pickerFactory(s: BalancerSettings): PickerFactory {
  switch (s.policy) {
    case 'ROUND_ROBIN':
      return roundRobin;
    case 'LEAST_REQUEST':
      return leastRequest({ choiceCount: s.choiceCount, activeRequestBias: s.activeRequestBias });
    case 'RANDOM':
      return randomPolicy(s.weightedRandom);
    case 'RING_HASH':
      return ringHash({ minimumRingSize: s.minimumRingSize, maximumRingSize: s.maximumRingSize, hashFunction: s.ringHashFunction });
    case 'MAGLEV':
      return maglev(s.maglevTableSize);
  }
}

const MASK32 = 0xffffffffn;

/** A cluster's balancer, rebuilt lazily when its host set changes. */
export class ClusterBalancer implements Balancer {
  lastPickInPanic = false;
  readonly settings: BalancerSettings;
  private builtVersion = -1;
  private plan!: PriorityPlan;
  private pickers: (SourcePicker | undefined)[] = [];
  /** Pickers for (priority, kind) pairs only a retry priority's load reaches: priority·2 + (degraded ? 1 : 0). */
  private readonly extraPickers = new Map<number, SourcePicker>();
  /** The slot taking 100% of the load, or -1 when a draw is needed. */
  private only = -1;
  /** When one slot takes all the load and the policy needs no hash: its picker (the common case's fast path). */
  private fast: SourcePicker | undefined;
  private readonly factory: PickerFactory;
  private readonly deps: PickerDeps;
  /** RING_HASH or MAGLEV: a request's hash (from the route's hash_policy) picks its host. */
  readonly hashPolicy: boolean;

  constructor(
    readonly cluster: Cluster,
    private readonly hostSet: HostSetView,
    private readonly random: Random,
    opts: BalancerOptions = {},
  ) {
    this.settings = balancerSettings(cluster, opts);
    this.factory = pickerFactory(this.settings);
    this.deps = { random, seed: opts.seed ?? nextU53(random) };
    this.hashPolicy = this.settings.policy === 'RING_HASH' || this.settings.policy === 'MAGLEV';
    this.rebuild();
  }

  pick(ctx?: PickContext): Host | undefined {
    if (this.hostSet.version !== this.builtVersion) this.rebuild();
    const fast = this.fast;
    if (ctx?.priorityLoad !== undefined) return this.pickUnderLoad(ctx, ctx.priorityLoad);
    if (fast !== undefined && (ctx === undefined || ctx.exclude === undefined || ctx.exclude.size === 0)) return fast.pick(false, 0, 0, 0);
    let hashed = false;
    let hi = 0;
    let lo = 0;
    const hash = ctx?.hash;
    if (this.hashPolicy) {
      if (hash !== undefined) {
        hashed = true;
        hi = Number((hash >> 32n) & MASK32);
        lo = Number(hash & MASK32);
      } else {
        // Envoy: no request hash → a random one (the hash LB then behaves like random).
        hi = this.random.nextU32();
        lo = this.random.nextU32();
      }
    }
    let slot = this.only;
    if (slot < 0) {
      const slots = this.plan.slots.length;
      if (slots === 0) {
        this.lastPickInPanic = false;
        return undefined;
      }
      const v = this.hashPolicy ? mod100(hi, lo) : this.random.nextU32() % 100;
      slot = chooseSlot(this.plan, v + 1);
    }
    const s = this.plan.slots[slot]!;
    return this.pickInSlot(s, this.pickers[slot] ?? this.makePicker(slot), ctx, hashed, hi, lo);
  }

  /**
   * A retry under a retry priority's load: the priority and kind are chosen against that load, and the host by the
   * same policy state the regular picks of that priority use (a priority the cluster's own load leaves empty gets a
   * picker of its own, kept until the host set changes).
   */
  private pickUnderLoad(ctx: PickContext, load: NonNullable<PickContext['priorityLoad']>): Host | undefined {
    const plan = planWithLoads(this.plan, load.healthy, load.degraded);
    if (plan.slots.length === 0) {
      this.lastPickInPanic = false;
      return undefined;
    }
    let hashed = false;
    let hi = 0;
    let lo = 0;
    if (this.hashPolicy) {
      hashed = ctx.hash !== undefined;
      hi = ctx.hash !== undefined ? Number((ctx.hash >> 32n) & MASK32) : this.random.nextU32();
      lo = ctx.hash !== undefined ? Number(ctx.hash & MASK32) : this.random.nextU32();
    }
    const v = this.hashPolicy ? mod100(hi, lo) : this.random.nextU32() % 100;
    const s = plan.slots[chooseSlot(plan, v + 1)]!;
    const regular = this.plan.slots.findIndex((r) => r.priority === s.priority && r.kind === s.kind);
    let picker: SourcePicker;
    if (regular >= 0) picker = this.pickers[regular] ?? this.makePicker(regular);
    else {
      const key = s.priority * 2 + (s.kind === 'degraded' ? 1 : 0);
      picker = this.extraPickers.get(key) ?? this.buildPicker(s);
      this.extraPickers.set(key, picker);
    }
    return this.pickInSlot(s, picker, ctx, hashed, hi, lo);
  }

  private pickInSlot(s: Slot, picker: SourcePicker, ctx: PickContext | undefined, hashed: boolean, hi: number, lo: number): Host | undefined {
    this.lastPickInPanic = s.panic;
    const exclude = ctx?.exclude;
    let host = picker.pick(hashed, hi, lo, 0);
    if (exclude === undefined || exclude.size === 0 || host === undefined || !exclude.has(host)) return host;
    // A retry: try other choices of the same policy, then any host of the slot not yet tried (or, with `reselect`,
    // what Envoy's chooseHost loop does: at most that many more choices, the last one kept).
    const reselect = ctx!.reselect;
    const limit = reselect ?? s.hosts.length;
    for (let attempt = 1; attempt <= limit; attempt++) {
      const next = picker.pick(hashed, hi, lo, attempt);
      if (next !== undefined && !exclude.has(next)) return next;
      if (next !== undefined) host = next;
    }
    if (reselect !== undefined) return host;
    for (const h of s.hosts) if (!exclude.has(h)) return h;
    return host;
  }

  /** The current priority plan (loads, panic), rebuilt if the host set changed. */
  currentPlan(): PriorityPlan {
    if (this.hostSet.version !== this.builtVersion) this.rebuild();
    return this.plan;
  }

  /**
   * The long-run share of each host under the current host set: Σ over slots of load × the policy's share within
   * the slot (weights for round robin and least request, equal for Envoy's random, owned hash space for ring hash and
   * maglev). Hosts that cannot be picked get 0.
   */
  expectedShares(): Map<Host, number> {
    const plan = this.currentPlan();
    const out = new Map<Host, number>();
    for (const h of this.hostSet.hosts) out.set(h, 0);
    plan.slots.forEach((slot, i) => {
      const picker = this.pickers[i] ?? this.makePicker(i);
      const shares = picker.shares();
      slot.hosts.forEach((h, k) => out.set(h, (out.get(h) ?? 0) + (slot.load / 100) * shares[k]!));
    });
    return out;
  }

  private rebuild(): void {
    this.builtVersion = this.hostSet.version;
    this.plan = planPriorities(this.hostSet.hosts, {
      panicThreshold: this.settings.panicThreshold,
      overprovisioningFactor: this.settings.overprovisioningFactor,
      panicPerPriorityOnly: this.hashPolicy,
    });
    this.pickers = new Array<SourcePicker | undefined>(this.plan.slots.length);
    this.extraPickers.clear();
    this.only = this.plan.slots.length === 1 && this.plan.slots[0]!.load === 100 ? 0 : -1;
    this.fast = undefined;
    if (this.only === 0 && !this.hashPolicy) {
      this.fast = this.makePicker(0);
      this.lastPickInPanic = this.plan.slots[0]!.panic;
    }
  }

  private makePicker(slot: number): SourcePicker {
    const picker = this.buildPicker(this.plan.slots[slot]!);
    this.pickers[slot] = picker;
    return picker;
  }

  private buildPicker(s: Slot): SourcePicker {
    let factory = this.factory;
    if (this.settings.localityWeighted && !this.hashPolicy && s.hosts.some((h) => h.locality !== undefined)) {
      const priorityHosts = this.hostSet.hosts.filter((h) => h.priority === s.priority);
      factory = localityWeighted(this.factory, priorityHosts, s.panic, this.settings.overprovisioningFactor);
    }
    return factory(s.hosts, this.deps);
  }
}

function mod100(hi: number, lo: number): number {
  // (hi·2^32 + lo) mod 100 without BigInt: 2^32 mod 100 = 96.
  return ((hi % 100) * 96 + (lo % 100)) % 100;
}

/** The balancer for `cluster` over `hosts`, as Envoy would balance it. */
export function createBalancer(cluster: Cluster, hosts: HostSetView, random: Random, opts: BalancerOptions = {}): ClusterBalancer {
  return new ClusterBalancer(cluster, hosts, random, opts);
}
