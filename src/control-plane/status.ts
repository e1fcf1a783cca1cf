/**
 * What `meshctl serve` knows about its fleet: every xDS stream (node id, cluster, user agent, peer), per type what it
 * subscribed to, what was sent, what the node ACKed and what it NACKed (with the NACK's error_detail), and the
 * counters Prometheus scrapes. Rendered as JSON (/status), as text (the admin page and `meshctl serve --status`) and
 * in Prometheus's text format (/metrics).
 */
import { RESOURCE_TYPES, SHORT_TYPE, type ResourceType } from './resources.js';

export interface NodeInfo {
  id: string;
  cluster: string;
  user_agent_name: string;
  user_agent_version: string;
}

export interface TypeStatus {
  /** `*` for a wildcard subscription, else the names. */
  subscribed: string[];
  sent_version: string;
  sent_nonce: string;
  acked_version: string;
  acked_at: string;
  nacked?: { version: string; error_detail: string; at: string };
  pushes: number;
  acks: number;
  nacks: number;
}

export interface StreamStatus {
  readonly stream: number;
  /** `ads`, `delta-ads`, `cds`, `delta-cds`, … */
  readonly kind: string;
  readonly peer: string;
  readonly connected_at: string;
  node: NodeInfo;
  readonly types: Record<string, TypeStatus>;
}

interface ConfigStatus {
  file: string;
  /** Per short type (cds, eds, lds, rds): the version being served and how many resources it has. */
  versions: Record<string, { version: string; resources: number }>;
  loaded_at: string;
  /** The last edit that was refused, if the file still holds it. */
  rejected?: { at: string; errors: number; diagnostics: string };
}

export interface ServeStatus {
  readonly address: string;
  readonly config: ConfigStatus;
  readonly streams: StreamStatus[];
}

type Counter = 'pushes' | 'acks' | 'nacks';

/** The live records and the counters that outlive streams. */
export class StatusBoard {
  private readonly streams = new Map<number, StreamStatus>();
  private nextId = 1;
  private readonly totals: Record<Counter, Map<string, number>> = { pushes: new Map(), acks: new Map(), nacks: new Map() };
  reloads = { ok: 0, rejected: 0 };
  config: ConfigStatus = { file: '', versions: {}, loaded_at: '' };

  /** The xDS address (set once the server is bound). */
  address = '';

  open(kind: string, peer: string): StreamStatus {
    const s: StreamStatus = {
      stream: this.nextId++,
      kind,
      peer,
      connected_at: new Date().toISOString(),
      node: { id: '', cluster: '', user_agent_name: '', user_agent_version: '' },
      types: {},
    };
    this.streams.set(s.stream, s);
    return s;
  }

  close(s: StreamStatus): void {
    this.streams.delete(s.stream);
  }

  typeOf(s: StreamStatus, typeUrl: ResourceType): TypeStatus {
    const key = SHORT_TYPE[typeUrl];
    return (s.types[key] ??= { subscribed: [], sent_version: '', sent_nonce: '', acked_version: '', acked_at: '', pushes: 0, acks: 0, nacks: 0 });
  }

  count(typeUrl: ResourceType, what: Counter): void {
    const m = this.totals[what];
    m.set(typeUrl, (m.get(typeUrl) ?? 0) + 1);
  }

  snapshot(): ServeStatus {
    return { address: this.address, config: this.config, streams: [...this.streams.values()] };
  }

  /** Prometheus text exposition (https://prometheus.io/docs/instrumenting/exposition_formats/). */
  metrics(): string {
    const lines: string[] = [];
    const family = (name: string, type: 'gauge' | 'counter', help: string, samples: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    const byKind = new Map<string, number>();
    for (const s of this.streams.values()) byKind.set(s.kind, (byKind.get(s.kind) ?? 0) + 1);
    family('meshctl_xds_connected_streams', 'gauge', 'xDS streams open now, by RPC kind.', [...byKind].sort().map(([k, n]) => [`{kind="${k}"}`, n]));
    const perType = (m: Map<string, number>): [string, number][] => RESOURCE_TYPES.map((t) => [`{type="${SHORT_TYPE[t]}"}`, m.get(t) ?? 0]);
    family('meshctl_xds_pushes_total', 'counter', 'Discovery responses sent, by resource type.', perType(this.totals.pushes));
    family('meshctl_xds_acks_total', 'counter', 'Responses a node accepted (ACK), by resource type.', perType(this.totals.acks));
    family('meshctl_xds_nacks_total', 'counter', 'Responses a node rejected (NACK), by resource type.', perType(this.totals.nacks));
    family('meshctl_xds_version', 'gauge', 'The version served now, by resource type.',
      RESOURCE_TYPES.map((t) => [`{type="${SHORT_TYPE[t]}"}`, Number(this.config.versions[SHORT_TYPE[t]]?.version ?? 0)]));
    family('meshctl_xds_resources', 'gauge', 'Resources served now, by resource type.',
      RESOURCE_TYPES.map((t) => [`{type="${SHORT_TYPE[t]}"}`, this.config.versions[SHORT_TYPE[t]]?.resources ?? 0]));
    family('meshctl_xds_config_reloads_total', 'counter', 'Edits of the served file, by outcome (a rejected edit is never pushed).', [
      ['{result="ok"}', this.reloads.ok],
      ['{result="rejected"}', this.reloads.rejected],
    ]);
    return lines.join('\n') + '\n';
  }
}

/** The status as a page of text: the config's versions, then one block per stream. */
export function renderStatus(s: ServeStatus): string {
  const out: string[] = [];
  out.push(`meshctl serve on ${s.address}: ${s.config.file}`);
  const v = Object.entries(s.config.versions).map(([t, x]) => `${t} v${x.version} (${x.resources})`).join(', ');
  out.push(`  serving ${v || '(nothing yet)'}, loaded ${s.config.loaded_at}`);
  if (s.config.rejected) out.push(`  last edit REJECTED at ${s.config.rejected.at} (${s.config.rejected.errors} error${s.config.rejected.errors === 1 ? '' : 's'}); still serving the version above`);
  out.push(`${s.streams.length} stream${s.streams.length === 1 ? '' : 's'}`);
  for (const st of s.streams) {
    const ua = [st.node.user_agent_name, st.node.user_agent_version].filter((x) => x !== '').join(' ');
    out.push(`  #${st.stream} ${st.kind} node "${st.node.id}" cluster "${st.node.cluster}"${ua ? ` (${ua})` : ''} from ${st.peer} since ${st.connected_at}`);
    for (const [t, ts] of Object.entries(st.types)) {
      const state = ts.nacked && ts.nacked.at >= ts.acked_at ? `NACKED v${ts.nacked.version}: ${ts.nacked.error_detail}` : ts.acked_version !== '' ? `ACKED v${ts.acked_version}` : 'waiting for ACK';
      const subs = ts.subscribed.length > 3 ? `${ts.subscribed.slice(0, 3).join(', ')}, … (${ts.subscribed.length})` : ts.subscribed.join(', ');
      out.push(`    ${t}: ${state}; sent v${ts.sent_version || '-'}; subscribed ${subs || '(nothing)'}`);
    }
  }
  return out.join('\n') + '\n';
}
