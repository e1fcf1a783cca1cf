/**
 * Envoy's v3 REST-JSON discovery: POST a DiscoveryRequest (proto3 JSON) to `<server>/v3/discovery:clusters` and
 * `:endpoints` every `refresh_delay` (Envoy's ApiConfigSource default 1 s here when unset), with each poll carrying
 * the ACK or NACK of the previous answer (version_info, response_nonce, error_detail). 304 means "no change".
 * `request_timeout` (default 1 s) bounds each POST; failures keep the state and back off.
 */
import type { TimerHandle } from '../time/timers.js';
import { backoffMs, type DiscoveryDeps, type DiscoveryHandle } from './types.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, XdsState, type DiscoveryResponseJson } from './xds-core.js';

interface XdsRestOptions {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly baseUrl: string;
  readonly refreshMs: number;
  readonly requestTimeoutMs: number;
  readonly cds: boolean;
  readonly eds: boolean;
}

const PATHS: Record<string, string> = { [CLUSTER_TYPE]: '/v3/discovery:clusters', [ENDPOINT_TYPE]: '/v3/discovery:endpoints' };

export class XdsRestClient implements DiscoveryHandle {
  readonly ready: Promise<void>;
  private timer: TimerHandle | undefined;
  private closed = false;
  private failures = 0;
  private readonly abort = new AbortController();
  private resolveReady!: () => void;

  constructor(
    readonly state: XdsState,
    private readonly opts: XdsRestOptions,
    private readonly deps: DiscoveryDeps,
  ) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    void this.round();
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.resolveReady();
  }

  /** Poll now (tests, and a CDS change that needs EDS at once). */
  async pollNow(): Promise<void> {
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.round();
  }

  private async round(): Promise<void> {
    if (this.closed) return;
    let ok = true;
    // CDS first: the clusters it brings decide the EDS names of the same round.
    if (this.opts.cds) ok = (await this.pollType(CLUSTER_TYPE)) && ok;
    if (this.opts.eds && !this.closed && this.state.request(ENDPOINT_TYPE).resource_names.length > 0) ok = (await this.pollType(ENDPOINT_TYPE)) && ok;
    if (this.closed) return;
    this.failures = ok ? 0 : this.failures + 1;
    this.resolveReady();
    const wait = ok ? this.opts.refreshMs : backoffMs(this.failures, this.opts.refreshMs, Math.max(this.opts.refreshMs, 30_000));
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      void this.round();
    }, wait);
  }

  /** One POST for one type; false on a transport failure. */
  private async pollType(typeUrl: string): Promise<boolean> {
    const req = this.state.request(typeUrl);
    const ac = new AbortController();
    const timeout = setTimeout(() => ac.abort(), this.opts.requestTimeoutMs);
    timeout.unref();
    const onClose = (): void => ac.abort();
    this.abort.signal.addEventListener('abort', onClose);
    try {
      const res = await fetch(this.opts.baseUrl + PATHS[typeUrl], {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(req),
        signal: ac.signal,
      });
      if (res.status === 304) {
        await res.body?.cancel();
        return true;
      }
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const body = JSON.parse(text) as DiscoveryResponseJson;
      // REST has no stream to ACK on: the ACK/NACK rides on the next poll (state.request carries it).
      this.state.onResponse({ ...body, type_url: body.type_url || typeUrl });
      return true;
    } catch (err) {
      if (this.closed) return false;
      this.state.stats.update_failure++;
      this.deps.log?.(`xds rest: ${this.opts.baseUrl}${PATHS[typeUrl]}: ${(err as Error).message}`);
      return false;
    } finally {
      clearTimeout(timeout);
      this.abort.signal.removeEventListener('abort', onClose);
    }
  }
}
