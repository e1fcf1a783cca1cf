/**
 * One xDS stream's protocol, state of the world and incremental (delta), after
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol:
 * - SotW: per type the subscribed names (LDS and CDS with no names are a wildcard), the last response's nonce and
 *   version. A request whose response_nonce is not the last one sent is stale and ignored; one that carries the last
 *   nonce is an ACK (or, with error_detail, a NACK of that version: recorded, nothing resent). A response holds every
 *   subscribed resource; it is sent when the subscription changes or when those resources changed.
 * - Delta: per type the subscribed names (or the wildcard) and the version of each resource the client has; a response
 *   holds only resources whose version the client lacks, and `removed_resources` for those it has that are gone.
 * An ADS stream carries every type; a per-type service (ClusterDiscoveryService, …) only its own.
 */
import type { JsonValue } from '../config/json-value.js';
import type { WireCodec } from '../config/envoy-api/wire.js';
import {
  DELTA_DISCOVERY_RESPONSE,
  DISCOVERY_RESPONSE,
  WILDCARD_TYPES,
  type Decoded,
  type DeltaDiscoveryRequestJson,
  type DiscoveryRequestJson,
  type NodeJson,
  type RpcStatus,
} from '../config/envoy-api/xds-protocol.js';
import { RESOURCE_TYPES, isResourceType, type Resource, type ResourceType } from './resources.js';
import type { Snapshot, Subscriber } from './snapshot.js';
import type { NodeInfo, StatusBoard, StreamStatus, TypeStatus } from './status.js';

/** What a client's requests carry, as decoded. */
export type DiscoveryRequest = Decoded<DiscoveryRequestJson>;
export type DeltaDiscoveryRequest = Decoded<DeltaDiscoveryRequestJson>;

/** What a stream needs from the server around it. */
export interface StreamContext {
  readonly snapshot: Snapshot;
  readonly codec: WireCodec;
  readonly board: StatusBoard;
  readonly log: (line: string) => void;
}

/** The part both protocols share: the node, the status record, ACK/NACK bookkeeping. */
abstract class StreamBase implements Subscriber {
  readonly status: StreamStatus;
  private closed = false;

  constructor(
    protected readonly ctx: StreamContext,
    kind: string,
    peer: string,
    /** The one type a per-type service serves; undefined for ADS. */
    protected readonly fixedType: ResourceType | undefined,
    private readonly write: (bytes: Buffer) => void,
  ) {
    this.status = ctx.board.open(kind, peer);
    ctx.snapshot.subscribers.add(this);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.snapshot.subscribers.delete(this);
    this.ctx.board.close(this.status);
  }

  abstract push(): void;

  protected noteNode(node: Decoded<NodeJson> | undefined): void {
    if (node === undefined) return;
    const n: NodeInfo = this.status.node;
    n.id = node.id ?? n.id;
    n.cluster = node.cluster ?? n.cluster;
    n.user_agent_name = node.user_agent_name ?? n.user_agent_name;
    n.user_agent_version = node.user_agent_version ?? n.user_agent_version;
  }

  /** The request's type, or undefined (with a log line) for a type this server does not serve. */
  protected typeOf(typeUrl: string | undefined): ResourceType | undefined {
    const t = typeUrl === undefined || typeUrl === '' ? this.fixedType : typeUrl;
    if (t !== undefined && isResourceType(t) && (this.fixedType === undefined || t === this.fixedType)) return t;
    this.ctx.log(`meshctl serve: node "${this.status.node.id}" asked for ${typeUrl ?? '(no type)'}, which is not served here; ignored`);
    return undefined;
  }

  protected ack(t: ResourceType, ts: TypeStatus, version: string): void {
    ts.acks++;
    ts.acked_version = version;
    ts.acked_at = new Date().toISOString();
    this.ctx.board.count(t, 'acks');
  }

  protected nack(t: ResourceType, ts: TypeStatus, version: string, err: Decoded<RpcStatus>): void {
    ts.nacks++;
    const detail = err.message ?? `code ${err.code ?? 0}`;
    ts.nacked = { version, error_detail: detail, at: new Date().toISOString() };
    this.ctx.board.count(t, 'nacks');
    this.ctx.log(`meshctl serve: node "${this.status.node.id}" rejected ${t.slice(t.lastIndexOf('.') + 1)} version ${version}: ${detail}`);
  }

  protected send(t: ResourceType, ts: TypeStatus, bytes: Buffer): void {
    ts.pushes++;
    this.ctx.board.count(t, 'pushes');
    if (!this.closed) this.write(bytes);
  }
}

interface SotwState {
  wildcard: boolean;
  names: Set<string>;
  /** The last response: nonce, version and what it held (name:version list). */
  nonce: string;
  version: string;
  key: string | undefined;
}

export class SotwStream extends StreamBase {
  private readonly types = new Map<ResourceType, SotwState>();

  onRequest(req: DiscoveryRequest): void {
    this.noteNode(req.node);
    const t = this.typeOf(req.type_url);
    if (t === undefined) return;
    const ts = this.ctx.board.typeOf(this.status, t);
    let st = this.types.get(t);
    const nonce = req.response_nonce ?? '';
    if (nonce !== '') {
      // A response the client answers after a newer one was sent: stale, ignored (xDS protocol, "ACK/NACK and
      // resource type instance version").
      if (st === undefined || nonce !== st.nonce) return;
      if (req.error_detail !== undefined) this.nack(t, ts, st.version, req.error_detail);
      else this.ack(t, ts, req.version_info ?? '');
    }
    const names = req.resource_names ?? [];
    const wildcard = names.includes('*') || (WILDCARD_TYPES.has(t) && names.length === 0 && (st === undefined || st.wildcard));
    const named = new Set(names.filter((n) => n !== '*'));
    const first = st === undefined;
    if (st === undefined) {
      st = { wildcard, names: named, nonce: '', version: '', key: undefined };
      this.types.set(t, st);
    } else if (st.wildcard === wildcard && sameNames(st.names, named)) return;
    st.wildcard = wildcard;
    st.names = named;
    ts.subscribed = wildcard ? ['*', ...named] : [...named].sort();
    this.respond(t, st, first);
  }

  push(): void {
    for (const t of RESOURCE_TYPES) {
      const st = this.types.get(t);
      if (st !== undefined) this.respond(t, st, false);
    }
  }

  private respond(t: ResourceType, st: SotwState, force: boolean): void {
    const set = this.ctx.snapshot.resources(t);
    const held: Resource[] = st.wildcard ? [...set.values()] : [...st.names].flatMap((n) => set.get(n) ?? []);
    const key = held.map((r) => `${r.name}:${r.version}`).join(',');
    if (!force && key === st.key) return;
    st.key = key;
    st.nonce = this.ctx.snapshot.nextNonce();
    st.version = this.ctx.snapshot.version(t);
    const ts = this.ctx.board.typeOf(this.status, t);
    ts.sent_version = st.version;
    ts.sent_nonce = st.nonce;
    const tail = this.ctx.codec.encode(DISCOVERY_RESPONSE, { version_info: st.version, type_url: t, nonce: st.nonce });
    // Fields may come in any order on the wire: the shared block of resources, then this stream's version and nonce.
    const block = this.ctx.snapshot.block(`sotw ${t} ${key}`, () => held.map((r) => r.sotwEntry));
    this.send(t, ts, Buffer.concat([block, tail]));
  }
}

interface DeltaState {
  wildcard: boolean;
  names: Set<string>;
  /** The version of each resource the client has (told by initial_resource_versions, or sent). */
  known: Map<string, string>;
  nonce: string;
  version: string;
}

export class DeltaStream extends StreamBase {
  private readonly types = new Map<ResourceType, DeltaState>();

  onRequest(req: DeltaDiscoveryRequest): void {
    this.noteNode(req.node);
    const t = this.typeOf(req.type_url);
    if (t === undefined) return;
    const ts = this.ctx.board.typeOf(this.status, t);
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    let st = this.types.get(t);
    const first = st === undefined;
    if (st === undefined) {
      // The first request of a type with no names is the legacy wildcard (LDS and CDS).
      st = { wildcard: WILDCARD_TYPES.has(t) && subscribe.length === 0, names: new Set(), known: new Map(Object.entries(req.initial_resource_versions ?? {})), nonce: '', version: '' };
      this.types.set(t, st);
    }
    const nonce = req.response_nonce ?? '';
    if (nonce !== '' && nonce === st.nonce) {
      if (req.error_detail !== undefined) this.nack(t, ts, st.version, req.error_detail);
      else this.ack(t, ts, st.version);
    }
    for (const n of subscribe) {
      if (n === '*') st.wildcard = true;
      else st.names.add(n);
    }
    for (const n of unsubscribe) {
      if (n === '*') st.wildcard = false;
      else {
        st.names.delete(n);
        // An unsubscribed resource is forgotten by the client; a later subscribe sends it again.
        if (!st.wildcard) st.known.delete(n);
      }
    }
    ts.subscribed = st.wildcard ? ['*', ...st.names] : [...st.names].sort();
    if (first || subscribe.length > 0 || unsubscribe.length > 0) this.respond(t, st);
  }

  push(): void {
    for (const t of RESOURCE_TYPES) {
      const st = this.types.get(t);
      if (st !== undefined) this.respond(t, st);
    }
  }

  private respond(t: ResourceType, st: DeltaState): void {
    const set = this.ctx.snapshot.resources(t);
    const wanted = (name: string): boolean => st.wildcard || st.names.has(name);
    const updates: Resource[] = [];
    for (const [name, r] of set) if (wanted(name) && st.known.get(name) !== r.version) updates.push(r);
    const removed = [...st.known.keys()].filter((name) => !set.has(name));
    if (updates.length === 0 && removed.length === 0) return;
    for (const r of updates) st.known.set(r.name, r.version);
    for (const name of removed) st.known.delete(name);
    st.nonce = this.ctx.snapshot.nextNonce();
    st.version = this.ctx.snapshot.version(t);
    const ts = this.ctx.board.typeOf(this.status, t);
    ts.sent_version = st.version;
    ts.sent_nonce = st.nonce;
    const tail: { [k: string]: JsonValue } = { system_version_info: st.version, type_url: t, nonce: st.nonce };
    if (removed.length > 0) tail.removed_resources = removed;
    const key = updates.map((r) => `${r.name}:${r.version}`).join(',');
    const block = this.ctx.snapshot.block(`delta ${t} ${key}`, () => updates.map((r) => r.deltaEntry));
    this.send(t, ts, Buffer.concat([block, this.ctx.codec.encode(DELTA_DISCOVERY_RESPONSE, tail)]));
  }
}

function sameNames(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const n of a) if (!b.has(n)) return false;
  return true;
}
