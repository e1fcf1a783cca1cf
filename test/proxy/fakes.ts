/**
 * A hand-built stand-in for the cluster manager (round robin over healthy hosts, breakers with settable limits, every
 * attempt recorded), so the proxy core (codecs, forwarding, retries, errors) is tested on its own. Integration tests
 * use the real one.
 */
import type { Bootstrap, Cluster } from '../../src/config/model.js';
import type { Balancer, Host, HostSetView, PickContext } from '../../src/balancer/types.js';
import { planPriorities, type PriorityPlan } from '../../src/balancer/priority.js';
import type { ClusterManager, ClusterManagerOptions, UpstreamCluster, UpstreamOutcome, BreakerResource } from '../../src/upstream/types.js';

class FakeHosts implements HostSetView {
  hosts: Host[];
  version = 0;
  constructor(cluster: Cluster, map?: ClusterManagerOptions['mapEndpoint']) {
    this.hosts = [];
    for (const loc of cluster.load_assignment?.endpoints ?? []) {
      for (const e of loc.lb_endpoints ?? []) {
        const sa = e.endpoint!.address!.socket_address!;
        let ip = sa.address!;
        let port = sa.port_value!;
        if (map) ({ ip, port } = map(ip, port));
        this.hosts.push({ address: `${ip}:${port}`, ip, port, weight: e.load_balancing_weight ?? 1, priority: 0, health: 'healthy', activeRequests: 0 });
      }
    }
  }
  replace(): void {}
  setHealthFlag(): void {}
  onChange(): () => void {
    return () => undefined;
  }
}

class RoundRobin implements Balancer {
  private i = 0;
  lastPickInPanic = false;
  constructor(private readonly set: FakeHosts) {}
  pick(ctx?: PickContext): Host | undefined {
    const hs = this.set.hosts.filter((h) => h.health === 'healthy' && !ctx?.exclude?.has(h));
    const pool = hs.length > 0 ? hs : this.set.hosts.filter((h) => h.health === 'healthy');
    if (pool.length === 0) return undefined;
    return pool[this.i++ % pool.length];
  }
  currentPlan(): PriorityPlan {
    return planPriorities(this.set.hosts);
  }
}

export interface FakeCluster extends UpstreamCluster {
  attempts: { host: string; outcome: UpstreamOutcome }[];
  limits: Partial<Record<BreakerResource, number>>;
}

export function fakeClusterManagerFactory(created?: (cm: ClusterManager) => void): (config: Bootstrap, opts: ClusterManagerOptions) => ClusterManager {
  return (config, opts) => {
    const map = new Map<string, FakeCluster>();
    const build = (c: Cluster): FakeCluster => {
      const hosts = new FakeHosts(c, opts.mapEndpoint);
      const used: Record<BreakerResource, number> = { connections: 0, pending: 0, requests: 0, retries: 0 };
      const fc: FakeCluster = {
        name: c.name!,
        config: c,
        hosts,
        balancer: new RoundRobin(hosts),
        attempts: [],
        limits: {},
        tryAcquire(r) {
          const lim = fc.limits[r] ?? (r === 'retries' ? 3 : 1024);
          if (used[r] >= lim) return false;
          used[r]++;
          return true;
        },
        release(r) {
          used[r]--;
        },
        onAttemptStart(h) {
          h.activeRequests++;
        },
        onAttemptEnd(h, outcome) {
          h.activeRequests--;
          fc.attempts.push({ host: h.address, outcome });
        },
      };
      return fc;
    };
    const apply = (cfg: Bootstrap): void => {
      const names = new Set<string>();
      for (const c of cfg.static_resources?.clusters ?? []) {
        names.add(c.name!);
        map.set(c.name!, build(c));
      }
      for (const k of [...map.keys()]) if (!names.has(k)) map.delete(k);
    };
    apply(config);
    const cm: ClusterManager = {
      get: (n) => map.get(n),
      clusters: () => map.values(),
      applyConfig: apply,
      upsertCluster: (c) => void map.set(c.name!, build(c)),
      removeCluster: (n) => void map.delete(n),
      close: async () => undefined,
    };
    created?.(cm);
    return cm;
  };
}
