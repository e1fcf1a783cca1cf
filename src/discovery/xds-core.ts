/**
 * The transport-independent half of an xDS client (state of the world): per type URL the last accepted version and
 * the last nonce, decoding and validating resources, and the ACK/NACK that answers every response. Envoy's rules:
 * - ACK = the new version_info + that response's nonce; NACK = the *previous* version_info + the same nonce +
 *   error_detail, and the previous state stays in force (an invalid update changes nothing);
 * - CDS is a wildcard subscription (empty resource_names) whose every response is the full set: a cluster that is
 *   absent was deleted; EDS is subscribed by name (the EDS clusters' service names), and absence deletes nothing.
 * REST-JSON (xds-rest.ts) and gRPC ADS (xds-grpc.ts) move the same DiscoveryRequest/Response through this class.
 */
import type { Cluster, ClusterLoadAssignment } from '../config/model.js';
import { findingMessage, resourceRunFateFindings, type RunFateFinding } from '../config/run-fate/check.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, decodeCluster, decodeLoadAssignment } from './envoy-json.js';

export { CLUSTER_TYPE, ENDPOINT_TYPE };

interface XdsNode {
  readonly id: string;
  readonly cluster: string;
  readonly user_agent_name?: string;
}

/** google.rpc.Status as the NACK carries it. */
interface RpcStatus {
  readonly code: number;
  readonly message: string;
}

export interface DiscoveryRequestJson {
  version_info: string;
  node: XdsNode;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: RpcStatus;
}

/** A DiscoveryResponse whose resources are already proto3-JSON objects (REST as sent; gRPC after decoding Any). */
export interface DiscoveryResponseJson {
  readonly version_info?: string;
  readonly resources?: readonly unknown[];
  readonly type_url?: string;
  readonly nonce?: string;
}

/** Where accepted updates go (the cluster manager). */
export interface XdsSink {
  /** The full CDS set (state of the world). */
  applyClusters(clusters: readonly Cluster[]): void;
  /** Load assignments by EDS service name. */
  applyAssignments(assignments: readonly ClusterLoadAssignment[]): void;
  /** The EDS service names to subscribe to now. */
  edsNames(): string[];
}

interface XdsStats {
  update_attempt: number;
  update_success: number;
  update_rejected: number;
  update_failure: number;
}

/** gRPC status INVALID_ARGUMENT, what Envoy puts in a NACK's error_detail. */
const INVALID_ARGUMENT = 3;

export class XdsState {
  readonly stats: XdsStats = { update_attempt: 0, update_success: 0, update_rejected: 0, update_failure: 0 };
  private readonly versions = new Map<string, string>();
  private readonly nonces = new Map<string, string>();
  /** The last NACK per type (error_detail repeats on polls until a good update arrives). */
  private readonly rejected = new Map<string, RpcStatus>();
  /** run-fate warnings already logged (each once, however often the control plane sends it). */
  private readonly warned = new Set<string>();

  constructor(
    readonly node: XdsNode,
    private readonly sink: XdsSink,
    private readonly log?: (line: string) => void,
  ) {}

  /** A new stream starts without nonces (versions are kept and re-sent). */
  resetNonces(): void {
    this.nonces.clear();
  }

  /** The accepted version of a type ('' before any). */
  version(typeUrl: string): string {
    return this.versions.get(typeUrl) ?? '';
  }

  /** The request a client sends for `typeUrl` now (first request, or a REST poll: last version, last nonce, last error). */
  request(typeUrl: string): DiscoveryRequestJson {
    const req: DiscoveryRequestJson = {
      version_info: this.version(typeUrl),
      node: this.node,
      resource_names: typeUrl === ENDPOINT_TYPE ? this.sink.edsNames() : [],
      type_url: typeUrl,
      response_nonce: this.nonces.get(typeUrl) ?? '',
    };
    const err = this.rejected.get(typeUrl);
    if (err) req.error_detail = err;
    return req;
  }

  /** Apply a response (or reject it) and return the ACK/NACK to send back. */
  onResponse(resp: DiscoveryResponseJson): DiscoveryRequestJson {
    const typeUrl = resp.type_url ?? '';
    this.stats.update_attempt++;
    if (resp.nonce !== undefined) this.nonces.set(typeUrl, resp.nonce);
    const errors = this.apply(typeUrl, resp.resources ?? []);
    if (errors.length === 0) {
      this.versions.set(typeUrl, resp.version_info ?? '');
      this.rejected.delete(typeUrl);
      this.stats.update_success++;
    } else {
      this.stats.update_rejected++;
      const message = errors.join('; ');
      this.rejected.set(typeUrl, { code: INVALID_ARGUMENT, message });
      this.log?.(`xds: rejected ${shortType(typeUrl)} version ${resp.version_info ?? ''}: ${message}; keeping version ${this.version(typeUrl) || '(none)'}`);
    }
    return this.request(typeUrl);
  }

  /** Decode and validate every resource first; apply only if all are valid. Returns the errors. */
  private apply(typeUrl: string, resources: readonly unknown[]): string[] {
    const errors: string[] = [];
    for (const [i, r] of resources.entries()) {
      const bad = (r as Record<string, unknown> | null)?.__decode_error;
      if (typeof bad === 'string') errors.push(`resources[${i}]: cannot decode: ${bad}`);
    }
    if (errors.length > 0) return errors;
    if (typeUrl === CLUSTER_TYPE) {
      const clusters: Cluster[] = [];
      const names = new Set<string>();
      for (const [i, r] of resources.entries()) {
        const t = typeOf(r);
        if (t !== undefined && t !== CLUSTER_TYPE) {
          errors.push(`resources[${i}]: type ${t} in a ${shortType(typeUrl)} response`);
          continue;
        }
        const d = decodeCluster(r);
        if (d.value === undefined) errors.push(`cluster ${nameOf(r) ?? `#${i}`}: ${d.errors.join('; ')}`);
        else if (names.has(d.value.name!)) errors.push(`duplicate cluster ${d.value.name}`);
        else if (!this.runFate(resourceRunFateFindings(d.value, 'Cluster'), `cluster ${d.value.name}`, errors)) continue;
        else {
          names.add(d.value.name!);
          clusters.push(d.value);
        }
      }
      if (errors.length === 0) this.sink.applyClusters(clusters);
      return errors;
    }
    if (typeUrl === ENDPOINT_TYPE) {
      const clas: ClusterLoadAssignment[] = [];
      for (const [i, r] of resources.entries()) {
        const t = typeOf(r);
        if (t !== undefined && t !== ENDPOINT_TYPE) {
          errors.push(`resources[${i}]: type ${t} in a ${shortType(typeUrl)} response`);
          continue;
        }
        const d = decodeLoadAssignment(r);
        if (d.value === undefined) errors.push(`load assignment ${clusterNameOf(r) ?? `#${i}`}: ${d.errors.join('; ')}`);
        else if (!d.value.cluster_name) errors.push(`resources[${i}]: a ClusterLoadAssignment needs cluster_name`);
        else if (this.runFate(resourceRunFateFindings(d.value, 'ClusterLoadAssignment'), `load assignment ${d.value.cluster_name}`, errors)) clas.push(d.value);
      }
      if (errors.length === 0) this.sink.applyAssignments(clas);
      return errors;
    }
    return [`type ${typeUrl} is not supported (meshctl takes CDS and EDS)`];
  }

  /**
   * A resource held to what meshctl run does (src/config/run-fate), as the same element in the file is: what run
   * cannot enforce NACKs the update (false), what it does not act on is logged once.
   */
  private runFate(findings: readonly RunFateFinding[], what: string, errors: string[]): boolean {
    let ok = true;
    for (const f of findings) {
      const line = `${what}: ${f.path}: ${findingMessage(f)}`;
      if (f.fate === 'refused') {
        errors.push(line);
        ok = false;
      } else if (!this.warned.has(line)) {
        this.warned.add(line);
        this.log?.(`xds: ${line}`);
      }
    }
    return ok;
  }
}

function typeOf(r: unknown): string | undefined {
  const t = (r as Record<string, unknown> | null)?.['@type'];
  return typeof t === 'string' ? t : undefined;
}

function nameOf(r: unknown): string | undefined {
  const n = (r as Record<string, unknown> | null)?.name;
  return typeof n === 'string' ? n : undefined;
}

function clusterNameOf(r: unknown): string | undefined {
  const o = r as Record<string, unknown> | null;
  const n = o?.cluster_name ?? o?.clusterName;
  return typeof n === 'string' ? n : undefined;
}

function shortType(t: string): string {
  return t === CLUSTER_TYPE ? 'CDS' : t === ENDPOINT_TYPE ? 'EDS' : t;
}

/** An EDS cluster's subscription name: eds_cluster_config.service_name, else the cluster name. */
export function edsServiceName(c: Cluster): string {
  return c.eds_cluster_config?.service_name || c.name || '';
}
