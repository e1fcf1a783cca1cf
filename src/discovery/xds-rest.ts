/**
 * Envoy's v3 REST-JSON discovery: POST a DiscoveryRequest (proto3 JSON) to `<server>/v3/discovery:clusters`,
 * `:endpoints`, `:listeners` and `:routes` every `refresh_delay` (1 s here when unset), in Envoy's order (clusters,
 * their endpoints, listeners, their routes), each poll carrying the ACK or NACK of the previous answer
 * (version_info, response_nonce, error_detail). 304 means "no change". `request_timeout` (default 1 s) bounds each
 * POST; failures keep the state and back off.
 */
import type { ConnectionOptions } from 'node:tls';
import type { TimerHandle } from '../time/timers.js';
import { backoffMs, type DiscoveryDeps } from './types.js';
import type { XdsState } from './xds-core.js';
import type { XdsTransport } from './xds.js';
import { isWildcardKind, type DiscoveryResponseJson, type XdsKind } from '../config/envoy-api/xds-protocol.js';
import { REST_PATH } from './xds-resources.js';

interface XdsRestOptions {
  /** `http://127.0.0.1:PORT`, or `https://…` when the cluster originates TLS (no trailing slash). */
  readonly baseUrl: string;
  readonly refreshMs: number;
  readonly requestTimeoutMs: number;
  readonly kinds: readonly XdsKind[];
  /** The control-plane cluster's TLS client options (an `https://` baseUrl): its CA, client certificate and checks. */
  readonly tls?: ConnectionOptions;
}

/** What a poll reads of a response, from node's fetch or undici's. */
interface PollResponse {
  readonly status: number;
  text(): Promise<string>;
  readonly body: { cancel(): Promise<void> } | null;
}
type PollInit = { method: string; headers: Record<string, string>; body: string; signal: AbortSignal };

/**
 * HTTPS with the cluster's own TLS options goes through undici's fetch and an Agent that connects with them (node's
 * global fetch takes no TLS options); imported only for a control plane behind TLS.
 */
async function tlsFetch(tls: ConnectionOptions): Promise<{ fetch: (url: string, init: PollInit) => Promise<PollResponse>; close(): Promise<void> }> {
  const undici = await import('undici');
  const agent = new undici.Agent({ connect: tls });
  return { fetch: (url, init) => undici.fetch(url, { ...init, dispatcher: agent }), close: () => agent.close() };
}

export class XdsRestClient implements XdsTransport {
  readonly ready: Promise<void>;
  private timer: TimerHandle | undefined;
  private closed = false;
  private failures = 0;
  private readonly abort = new AbortController();
  private resolveReady!: () => void;
  private polling: Promise<void> | undefined;
  private polled = false;
  private readonly secure: ReturnType<typeof tlsFetch> | undefined;

  constructor(
    readonly state: XdsState,
    private readonly opts: XdsRestOptions,
    private readonly deps: DiscoveryDeps,
  ) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    this.secure = opts.tls !== undefined ? tlsFetch(opts.tls) : undefined;
    void this.round();
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    void this.secure?.then((s) => s.close());
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.resolveReady();
  }

  connected(): boolean {
    return this.failures === 0 && this.polled;
  }

  /** A subscription changed (new clusters or listeners): poll at once instead of at the next refresh. */
  resubscribe(): void {
    if (this.polling !== undefined || this.closed) return;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
    void this.round();
  }

  private async round(): Promise<void> {
    if (this.closed) return;
    let done!: () => void;
    this.polling = new Promise((r) => (done = r));
    let ok = true;
    // In order: the clusters and listeners a round brings decide the EDS and RDS names of the same round.
    for (const kind of this.opts.kinds) {
      if (this.closed) break;
      if (!isWildcardKind(kind) && this.state.request(kind).resource_names.length === 0) continue;
      ok = (await this.pollType(kind)) && ok;
    }
    this.polling = undefined;
    done();
    if (this.closed) return;
    this.failures = ok ? 0 : this.failures + 1;
    this.polled = true;
    this.resolveReady();
    const wait = ok ? this.opts.refreshMs : backoffMs(this.failures, this.opts.refreshMs, Math.max(this.opts.refreshMs, 30_000), this.deps.random);
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      void this.round();
    }, wait);
  }

  /** One POST for one type; false on a transport failure. */
  private async pollType(kind: XdsKind): Promise<boolean> {
    const req = this.state.request(kind);
    const ac = new AbortController();
    const timeout = setTimeout(() => ac.abort(), this.opts.requestTimeoutMs);
    timeout.unref();
    const onClose = (): void => ac.abort();
    this.abort.signal.addEventListener('abort', onClose);
    const url = this.opts.baseUrl + REST_PATH[kind];
    try {
      const init: PollInit = {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(req),
        signal: ac.signal,
      };
      const res: PollResponse = this.secure !== undefined ? await (await this.secure).fetch(url, init) : await fetch(url, init);
      if (res.status === 304) {
        await res.body?.cancel();
        return true;
      }
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const body = JSON.parse(text) as DiscoveryResponseJson;
      // REST has no stream to ACK on: the ACK/NACK rides on the next poll (state.request carries it).
      await this.state.onResponse({ ...body, type_url: body.type_url || req.type_url });
      return true;
    } catch (err) {
      if (this.closed) return false;
      this.state.failed(kind);
      this.deps.log?.(`xds rest: ${url}: ${(err as Error).message}`);
      return false;
    } finally {
      clearTimeout(timeout);
      this.abort.signal.removeEventListener('abort', onClose);
    }
  }
}
