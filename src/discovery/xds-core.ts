/**
 * The transport-independent half of an xDS client: per resource type the accepted resources (name → version, value,
 * last update), the version and nonce, the subscription, and the ACK/NACK that answers every response, for both
 * protocol variants (https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol):
 * - state of the world: ACK = the new version_info + that response's nonce; NACK = the *previous* version_info + the
 *   same nonce + error_detail. CDS and LDS are wildcard subscriptions whose every response is the full set (a
 *   resource absent was removed); EDS and RDS are subscribed by name, and absence removes nothing;
 * - delta (incremental): a response adds or updates the resources it carries (each with its own version) and removes
 *   `removed_resources`; ACK = the nonce, NACK = the nonce + error_detail; a new stream announces the versions held
 *   (initial_resource_versions) so the server sends only what changed; subscriptions change by
 *   resource_names_subscribe / _unsubscribe.
 * Every resource is judged first (resource-judge.ts); one bad resource refuses the whole response, which changes
 * nothing: the previous version keeps serving. Then the sink applies it (it may refuse too, e.g. a listener whose TLS
 * files cannot be read), and only then is the update committed and ACKed.
 * REST-JSON (xds-rest.ts) and gRPC (xds-grpc.ts) move the messages; this class decides what they say.
 */
import { judgeResources, type ModelOf } from './resource-judge.js';
import {
  TYPE_URL,
  isWildcardKind,
  kindOf,
  type DeltaDiscoveryRequestJson,
  type DeltaDiscoveryResponseJson,
  type DiscoveryRequestJson,
  type DiscoveryResponseJson,
  type NodeJson,
  type ResourceJson,
  type RpcStatus,
  type XdsKind,
} from '../config/envoy-api/xds-protocol.js';
import { INVALID_ARGUMENT } from './xds-resources.js';

/** One accepted resource. */
export interface XdsResource<T> {
  readonly name: string;
  /** The response's version_info (state of the world) or the resource's own version (delta). */
  readonly version: string;
  readonly value: T;
  /** As received (proto3 JSON with `@type`), for /config_dump. */
  readonly json: ResourceJson;
  readonly lastUpdated: Date;
}

export type ResourceMap<K extends XdsKind> = ReadonlyMap<string, XdsResource<ModelOf[K]>>;

/** Where accepted updates go (the controller in xds.ts). */
export interface XdsSink {
  /** The names of an EDS or RDS subscription now. */
  names(kind: 'EDS' | 'RDS'): string[];
  /** Apply the full accepted set of a type; a rejection (throw) refuses the update (NACK) and changes nothing. */
  apply<K extends XdsKind>(kind: K, resources: ResourceMap<K>): Promise<void>;
  /** A type had its first answer (accepted or not): start-up waits for that. */
  responded?(kind: XdsKind): void;
}

export interface XdsTypeStats {
  update_attempt: number;
  update_success: number;
  update_rejected: number;
  update_failure: number;
}

interface TypeState {
  /** The accepted version_info (state of the world) or system_version_info (delta). */
  version: string;
  nonce: string;
  /** The last NACK (a REST poll repeats it until a good update arrives). */
  rejected: RpcStatus | undefined;
  resources: Map<string, XdsResource<unknown>>;
  /** Delta: the names the server has been told about (subscribed). */
  subscribed: Set<string>;
  lastUpdated: Date | undefined;
  readonly stats: XdsTypeStats;
}

/** Envoy truncates long NACK texts too; a control plane logs them, and 4 KiB names plenty of resources. */
const MAX_ERROR_DETAIL = 4096;

export class XdsState {
  private readonly types = new Map<XdsKind, TypeState>();
  /** run-ignored warnings already logged. */
  private readonly warned = new Set<string>();

  constructor(
    readonly node: NodeJson,
    private readonly sink: XdsSink,
    private readonly log?: (line: string) => void,
  ) {}

  private type(kind: XdsKind): TypeState {
    let t = this.types.get(kind);
    if (t === undefined) {
      t = {
        version: '',
        nonce: '',
        rejected: undefined,
        resources: new Map(),
        subscribed: new Set(),
        lastUpdated: undefined,
        stats: { update_attempt: 0, update_success: 0, update_rejected: 0, update_failure: 0 },
      };
      this.types.set(kind, t);
    }
    return t;
  }

  /** A new stream for `kinds` starts without nonces (versions are kept and re-sent) and, for delta, without
   * subscriptions. */
  resetStream(kinds: readonly XdsKind[]): void {
    for (const kind of kinds) {
      const t = this.type(kind);
      t.nonce = '';
      t.subscribed.clear();
    }
  }

  version(kind: XdsKind): string {
    return this.types.get(kind)?.version ?? '';
  }

  stats(kind: XdsKind): XdsTypeStats {
    return this.type(kind).stats;
  }

  /** A transport failure while fetching `kind` (REST poll, broken stream). */
  failed(kind: XdsKind): void {
    this.type(kind).stats.update_failure++;
    this.sink.responded?.(kind);
  }

  resources<K extends XdsKind>(kind: K): ResourceMap<K> {
    return this.type(kind).resources as ResourceMap<K>;
  }

  lastUpdated(kind: XdsKind): Date | undefined {
    return this.types.get(kind)?.lastUpdated;
  }

  private names(kind: XdsKind): string[] {
    return isWildcardKind(kind) ? [] : this.sink.names(kind as 'EDS' | 'RDS');
  }

  // ------------------------------------------------------------ state of the world

  /** The request for `kind` now (first request, a REST poll, a changed subscription): last version, nonce, NACK. */
  request(kind: XdsKind): DiscoveryRequestJson {
    const t = this.type(kind);
    const req: DiscoveryRequestJson = {
      version_info: t.version,
      node: this.node,
      resource_names: this.names(kind),
      type_url: TYPE_URL[kind],
      response_nonce: t.nonce,
    };
    if (t.rejected) req.error_detail = t.rejected;
    return req;
  }

  /** Apply a response (or refuse it) and return the ACK/NACK to send back. */
  async onResponse(resp: DiscoveryResponseJson): Promise<DiscoveryRequestJson> {
    const typeUrl = resp.type_url ?? '';
    const kind = kindOf(typeUrl);
    if (kind === undefined) {
      const status = { code: INVALID_ARGUMENT, message: `type ${typeUrl} is not one meshctl subscribes to (it takes LDS, RDS, CDS and EDS)` };
      return { version_info: '', node: this.node, resource_names: [], type_url: typeUrl, response_nonce: resp.nonce ?? '', error_detail: status };
    }
    const t = this.type(kind);
    t.nonce = resp.nonce ?? '';
    const version = resp.version_info ?? '';
    const next = isWildcardKind(kind) ? new Map<string, XdsResource<unknown>>() : new Map(t.resources);
    const errors = await this.update(kind, t, version, resp.resources ?? [], [], next, () => version);
    this.finish(kind, t, version, errors);
    return this.request(kind);
  }

  // ------------------------------------------------------------ delta

  /** The first request of `kind` on a new delta stream: the subscription, and the versions already held. */
  deltaInitial(kind: XdsKind): DeltaDiscoveryRequestJson {
    const t = this.type(kind);
    const names = this.names(kind);
    t.subscribed = new Set(names);
    const initial: Record<string, string> = {};
    for (const [name, r] of t.resources) initial[name] = r.version;
    // A wildcard subscription says so with an empty list on its first request (the legacy wildcard Envoy sends).
    return { node: this.node, type_url: TYPE_URL[kind], resource_names_subscribe: names, initial_resource_versions: initial };
  }

  /** A changed EDS/RDS subscription as a delta request, or undefined when nothing changed. */
  deltaResubscribe(kind: 'EDS' | 'RDS'): DeltaDiscoveryRequestJson | undefined {
    const t = this.type(kind);
    const want = new Set(this.sink.names(kind));
    const add = [...want].filter((n) => !t.subscribed.has(n));
    const drop = [...t.subscribed].filter((n) => !want.has(n));
    if (add.length === 0 && drop.length === 0) return undefined;
    t.subscribed = want;
    // What is no longer wanted is forgotten (Envoy drops an unsubscribed resource from its cache).
    for (const n of drop) t.resources.delete(n);
    return { type_url: TYPE_URL[kind], resource_names_subscribe: add, resource_names_unsubscribe: drop };
  }

  async onDeltaResponse(resp: DeltaDiscoveryResponseJson): Promise<DeltaDiscoveryRequestJson> {
    const typeUrl = resp.type_url ?? '';
    const kind = kindOf(typeUrl);
    if (kind === undefined) {
      const status = { code: INVALID_ARGUMENT, message: `type ${typeUrl} is not one meshctl subscribes to (it takes LDS, RDS, CDS and EDS)` };
      return { type_url: typeUrl, response_nonce: resp.nonce ?? '', error_detail: status };
    }
    const t = this.type(kind);
    t.nonce = resp.nonce ?? '';
    const version = resp.system_version_info ?? '';
    const next = new Map(t.resources);
    const items = resp.resources ?? [];
    const versions = new Map<string, string>();
    for (const r of items) if (r.name !== undefined) versions.set(r.name, r.version ?? '');
    const empty = items.find((r) => r.resource === undefined);
    const errors =
      empty !== undefined
        ? [`resource ${empty.name ?? '(unnamed)'}: a delta Resource without a body`]
        : await this.update(kind, t, version, items.map((r) => r.resource!), resp.removed_resources ?? [], next, (name) => versions.get(name) ?? version);
    this.finish(kind, t, version, errors);
    const reply: DeltaDiscoveryRequestJson = { type_url: typeUrl, response_nonce: t.nonce };
    if (errors.length > 0) reply.error_detail = t.rejected!;
    return reply;
  }

  // ------------------------------------------------------------ common

  /** Judge, apply and (if both agree) commit; returns the errors (empty = accepted). */
  private async update(
    kind: XdsKind,
    t: TypeState,
    version: string,
    resources: readonly ResourceJson[],
    removed: readonly string[],
    next: Map<string, XdsResource<unknown>>,
    versionOf: (name: string) => string,
  ): Promise<string[]> {
    t.stats.update_attempt++;
    const wrongType = resources.findIndex((r) => typeof r['@type'] === 'string' && r['@type'] !== TYPE_URL[kind]);
    if (wrongType >= 0) return [`resources[${wrongType}]: type ${String(resources[wrongType]!['@type'])} in a ${kind} response`];
    const judged = judgeResources(kind, resources);
    if (judged.errors.length > 0) return judged.errors;
    for (const w of judged.warnings) {
      // Each once, however often the control plane sends it.
      if (this.warned.has(w)) continue;
      this.warned.add(w);
      this.log?.(`xds: ${w}`);
    }
    const now = new Date();
    for (const [i, [name, value]] of [...judged.values].entries()) {
      const json = resources[i]!;
      const prev = t.resources.get(name);
      // An unchanged resource keeps its version and time (a state-of-the-world response repeats every resource).
      const same = prev !== undefined && JSON.stringify(prev.json) === JSON.stringify(json);
      next.set(name, same ? prev : { name, version: versionOf(name), value, json, lastUpdated: now });
    }
    for (const name of removed) next.delete(name);
    try {
      await this.sink.apply(kind, next as ResourceMap<typeof kind>);
    } catch (err) {
      return [(err as Error).message];
    }
    t.resources = next;
    t.lastUpdated = now;
    return [];
  }

  private finish(kind: XdsKind, t: TypeState, version: string, errors: string[]): void {
    if (errors.length === 0) {
      t.version = version;
      t.rejected = undefined;
      t.stats.update_success++;
    } else {
      t.stats.update_rejected++;
      let message = errors.join('; ');
      if (message.length > MAX_ERROR_DETAIL) message = message.slice(0, MAX_ERROR_DETAIL - 1) + '…';
      t.rejected = { code: INVALID_ARGUMENT, message };
      this.log?.(`xds: rejected ${kind} version ${version || '(none)'}: ${message}; keeping version ${t.version || '(none)'}`);
    }
    this.sink.responded?.(kind);
  }
}
