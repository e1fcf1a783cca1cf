/**
 * The article's dialect → the canonical (Envoy v3-shaped) model. Each rewrite is recorded as a DialectNote on the
 * node it produced, so `validate` can say where Envoy expects the construct and `convert` can write Envoy's shape.
 *
 * Constructs (the `construct` ids of the notes):
 *  - `wrapper-block`: `clusters { cluster { … } }`, `listeners { listener { … } }`, `filter_chains { filter_chain { … } }`
 *    — a repeated field whose element holds a single-name wrapper the element type does not have; unwrapped.
 *  - `top-level-fragment`: `cluster`, `listener`, `clusters`, `listeners`, `service_cluster_discovery_refresh_service`
 *    at the top of a file; moved under `static_resources`.
 *  - `endpoint-shorthand`: `load_assignment { endpoints { address { … } weight: N } }`; becomes
 *    `endpoints { lb_endpoints { endpoint { address } load_balancing_weight: N } }` (consecutive shorthand endpoints
 *    share one LocalityLbEndpoints).
 *  - `endpoint-weight`: `weight` on an LbEndpoint; becomes `load_balancing_weight`.
 *  - `codec-shorthand`: `codec: "http2"` in the connection manager; becomes `codec_type: HTTP2`.
 *  - `transport-socket-in-hcm`: `transport_socket` inside the connection manager's typed_config; moved to the filter
 *    chain.
 *  - `tls-context-wrapper`: `typed_config { tls_context { … } }`; unwrapped into the TLS context.
 *  - `certificate-file-shorthand`: `certificate_key_file` / `certificate_chain_file` in common_tls_context; become
 *    `tls_certificates[0] { private_key { filename } certificate_chain { filename } }`.
 *  - `v2-tls-context`: Envoy v2's `tls_context` on a filter chain or cluster; becomes a `transport_socket` named
 *    `envoy.transport_sockets.tls`.
 *  - `ads-shorthand`: `ads: true` in a ConfigSource; becomes Envoy's `ads: {}` (an error in an Envoy-format file,
 *    where Envoy refuses it).
 */
import type { Diagnostic } from './diagnostic.js';
import type { MessageDesc, Schema } from './descriptor.js';
import { type DialectNote, META, type ModelNode } from './node-meta.js';
import type { InputFormat } from './model.js';
import type { DiscoveryRefreshService, FilterChain, HttpConnectionManager } from './model.generated.js';
import { SField, SList, SMessage, SScalar, type SyntaxNode } from './syntax.js';

/** What the decoder offers the rewrites. */
export interface NormalizeContext {
  readonly schema: Schema;
  /** The input's format: Envoy's own files get Envoy's verdict on what only the dialects accept. */
  readonly format: InputFormat;
  /** Attach a note to the node that will be decoded from `target` (a syntax node). */
  note(target: object, note: DialectNote): void;
  /** Keep this field verbatim in `unmodeled`, with an `unmodeled-extension` warning saying `why`. */
  keepVerbatim(field: SField, why: string): void;
  report(d: Diagnostic): void;
}

export const HCM_FILTER_NAMES: ReadonlySet<string> = new Set([
  'envoy.filters.network.http_connection_manager',
  'envoy.http_connection_manager',
  'http_connection_manager',
]);
export const TLS_SOCKET_NAMES: ReadonlySet<string> = new Set(['envoy.transport_sockets.tls', 'tls']);

// Lookups in these tables take field names and values straight from the input, so they must not see
// Object.prototype (`constructor`, `__proto__`, `toString` would otherwise resolve to functions): use ownKey().
const TOP_LEVEL_FRAGMENTS: Record<string, string> = {
  cluster: 'clusters',
  clusters: 'clusters',
  listener: 'listeners',
  listeners: 'listeners',
  service_cluster_discovery_refresh_service: 'service_cluster_discovery_refresh_service',
};

/** The dialect's top-level fragments (`cluster`, `listeners`, …): keys only meshctl's own shape has at the top. */
export const TOP_LEVEL_FRAGMENT_KEYS: readonly string[] = Object.keys(TOP_LEVEL_FRAGMENTS);

function ownKey(table: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const ENDPOINT_SHORTHAND_KEYS = new Set(['address', 'weight', 'endpoint', 'hostname', 'health_status', 'health_check_config']);

const CODECS: Record<string, string> = {
  http2: 'HTTP2',
  'http/2': 'HTTP2',
  h2: 'HTTP2',
  http1: 'HTTP1',
  'http/1.1': 'HTTP1',
  'http1.1': 'HTTP1',
  http11: 'HTTP1',
  h1: 'HTTP1',
  http3: 'HTTP3',
  'http/3': 'HTTP3',
  h3: 'HTTP3',
  auto: 'AUTO',
};

/** Rewrite a message's syntax before it is decoded as `desc`. Returns the message to decode (maybe `msg` itself). */
export function normalizeMessage(desc: MessageDesc, msg: SMessage, ctx: NormalizeContext): SMessage {
  let fields = msg.fields;
  switch (desc.name) {
    case 'Bootstrap':
      fields = topLevelFragments(fields, msg, ctx);
      break;
    case 'ClusterLoadAssignment':
      fields = endpointShorthand(fields, ctx);
      break;
    case 'LbEndpoint':
      fields = renameField(fields, 'weight', 'load_balancing_weight', (f) =>
        ctx.note(msg, {
          construct: 'endpoint-weight',
          span: f.keySpan,
          envoyPlacement: 'lb_endpoints[].load_balancing_weight',
        }),
      );
      break;
    case 'HttpConnectionManager':
      fields = codecShorthand(fields, msg, ctx);
      break;
    case 'TlsContext':
      fields = tlsContextWrapper(fields, msg, ctx);
      break;
    case 'CommonTlsContext':
      fields = certificateFiles(fields, ctx);
      break;
    case 'FilterChain':
    case 'Cluster':
      fields = v2TlsContext(fields, ctx, desc.name === 'Cluster' ? 'UpstreamTlsContext' : 'DownstreamTlsContext');
      break;
    case 'ConfigSource':
      fields = aggregatedConfigSource(fields, msg, ctx);
      break;
    case 'LeastRequestLbConfig':
      fields = runtimeDouble(fields, 'active_request_bias');
      break;
    case 'Filter':
      extensionByName(fields, HCM_FILTER_NAMES, 'filter', ctx);
      break;
    case 'TransportSocket':
      extensionByName(fields, TLS_SOCKET_NAMES, 'transport socket', ctx);
      break;
  }
  fields = unwrapWrapperBlocks(desc, fields, ctx);
  return fields === msg.fields ? msg : msg.withFields(fields);
}

/** Rewrites that need the decoded children (`written` is the message as the source wrote it). */
export function afterDecode(desc: MessageDesc, node: ModelNode, written: SMessage, ctx: NormalizeContext): void {
  if (desc.name === 'FilterChain') transportSocketFromHcm(node as FilterChain, ctx);
  else if (desc.name === 'LeastRequestLbConfig') keepRuntimeKey(node as ModelNode & { active_request_bias?: number }, written);
}

/**
 * Envoy's active_request_bias is a RuntimeDouble: a default and the runtime key that may override it. The model holds
 * the default (what the balancer uses; runtimeDouble above); a key the source names is kept in `unmodeled`, so a
 * conversion writes the field back as written instead of with Envoy's default key.
 */
function keepRuntimeKey(node: ModelNode & { active_request_bias?: number }, written: SMessage): void {
  const f = written.fields.find((x) => x.name === 'active_request_bias');
  if (f?.value.kind !== 'message' || node.active_request_bias === undefined) return;
  const key = f.value.fields.find((x) => x.name === 'runtime_key')?.value;
  if (key?.kind !== 'scalar' || typeof key.value !== 'string') return;
  node.unmodeled = { ...node.unmodeled, active_request_bias: { default_value: node.active_request_bias, runtime_key: key.value } };
}

/** The cluster a discovery refresh service feeds: `cluster_name`, else the last path segment of `service_url`. */
export function refreshServiceCluster(s: DiscoveryRefreshService): string | undefined {
  if (s.cluster_name) return s.cluster_name;
  if (!s.service_url) return undefined;
  let path = s.service_url;
  try {
    path = new URL(s.service_url).pathname;
  } catch {
    path = s.service_url.replace(/[?#].*$/, '');
  }
  const segments = path.split('/').filter((p) => p !== '');
  const last = segments[segments.length - 1];
  if (last === undefined) return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    // A stray `%` that starts no escape: the segment as written.
    return last;
  }
}

// ---------------------------------------------------------------------------------------------------------------

function singularOf(plural: string): string[] {
  const out = [plural.replace(/s$/, '')];
  if (plural.endsWith('es')) out.push(plural.slice(0, -2));
  if (plural.endsWith('ies')) out.push(plural.slice(0, -3) + 'y');
  return out;
}

/** Whether a message type has a repeated message field at all (else no field of it can be a wrapper block). */
const HAS_REPEATED_MESSAGE = new WeakMap<MessageDesc, boolean>();

function hasRepeatedMessage(desc: MessageDesc): boolean {
  let has = HAS_REPEATED_MESSAGE.get(desc);
  if (has === undefined) {
    has = false;
    for (const fd of desc.fields.values()) if (fd.repeated && fd.value.kind === 'message') has = true;
    HAS_REPEATED_MESSAGE.set(desc, has);
  }
  return has;
}

function unwrapWrapperBlocks(desc: MessageDesc, fields: SField[], ctx: NormalizeContext): SField[] {
  if (!hasRepeatedMessage(desc)) return fields;
  let any = false;
  for (const f of fields) {
    if (f.value.kind === 'message' && isWrapperField(desc, f)) {
      any = true;
      break;
    }
  }
  if (!any) return fields;
  const out: SField[] = [];
  for (const f of fields) {
    if (!isWrapperField(desc, f)) {
      out.push(f);
      continue;
    }
    const element = (desc.fields.get(f.name)!.value as { type: MessageDesc }).type;
    for (const w of (f.value as SMessage).fields) {
      const values = w.value.kind === 'list' ? w.value.items : [w.value];
      for (const v of values) {
        if (v.kind === 'message') {
          ctx.note(v, {
            construct: 'wrapper-block',
            span: w.keySpan,
            envoyPlacement: `${f.name}: [ {…} ] — Envoy lists the ${element.name} messages directly, without a \`${w.name} { }\` wrapper`,
          });
        }
        const field = new SField(f.name, v, w.src, w.keyStart, w.keyEnd, w.start, w.end);
        const comments = w.comments ?? f.comments;
        if (comments !== undefined) field.comments = comments;
        out.push(field);
      }
    }
  }
  return out;
}

/** `clusters { cluster { … } }`: a repeated message field written as a wrapper block (see unwrapWrapperBlocks). */
export function isWrapperField(desc: MessageDesc, f: SField): boolean {
  const fd = desc.fields.get(f.name);
  if (fd === undefined || !fd.repeated || fd.value.kind !== 'message' || f.value.kind !== 'message') return false;
  const inner = f.value.fields;
  if (inner.length === 0) return false;
  const wrapper = inner[0]!.name;
  return !fd.value.type.fields.has(wrapper) && singularOf(f.name).includes(wrapper) && inner.every((x) => x.name === wrapper);
}

function topLevelFragments(fields: SField[], root: SMessage, ctx: NormalizeContext): SField[] {
  const moved: SField[] = [];
  const rest: SField[] = [];
  for (const f of fields) {
    const target = ownKey(TOP_LEVEL_FRAGMENTS, f.name);
    if (target === undefined) {
      rest.push(f);
      continue;
    }
    const values = f.value.kind === 'list' ? f.value.items : [f.value];
    for (const v of values) {
      ctx.note(v, {
        construct: 'top-level-fragment',
        span: f.keySpan,
        envoyPlacement: `static_resources.${target}[] — Envoy's bootstrap holds ${target} under static_resources`,
      });
    }
    moved.push(f.with(target, f.value));
  }
  if (moved.length === 0) return fields;
  const existing = rest.findIndex((f) => f.name === 'static_resources' && f.value.kind === 'message');
  if (existing >= 0) {
    const sr = rest[existing]!;
    const value = sr.value as SMessage;
    rest[existing] = sr.with(sr.name, value.withFields([...value.fields, ...moved]));
    return rest;
  }
  const first = moved[0]!;
  const last = moved[moved.length - 1]!;
  const src = first.src;
  const sr = new SField('static_resources', new SMessage(moved, src, first.start, last.end), src, first.keyStart, first.keyEnd, first.start, last.end);
  void root;
  // Keep file order: static_resources where the first fragment was.
  const at = fields.indexOf(fields.find((f) => ownKey(TOP_LEVEL_FRAGMENTS, f.name) !== undefined)!);
  const before = fields.slice(0, at).filter((f) => ownKey(TOP_LEVEL_FRAGMENTS, f.name) === undefined);
  return [...before, sr, ...rest.slice(before.length)];
}

function isEndpointShorthand(v: SyntaxNode): v is SMessage {
  return v.kind === 'message' && v.fields.some((f) => ENDPOINT_SHORTHAND_KEYS.has(f.name));
}

function endpointShorthand(fields: SField[], ctx: NormalizeContext): SField[] {
  if (!fields.some((f) => f.name === 'endpoints' && (isEndpointShorthand(f.value) || (f.value.kind === 'list' && f.value.items.some(isEndpointShorthand))))) {
    return fields;
  }
  const out: SField[] = [];
  let group: { field: SField; lb: SField[] } | undefined;
  for (const f of fields) {
    if (f.name !== 'endpoints') {
      out.push(f);
      continue;
    }
    const values = f.value.kind === 'list' ? f.value.items : [f.value];
    const regular: SyntaxNode[] = [];
    for (const v of values) {
      if (!isEndpointShorthand(v)) {
        regular.push(v);
        continue;
      }
      const lb = toLbEndpoint(v, f, ctx);
      if (group === undefined) {
        group = { field: new SField('endpoints', new SMessage([], f.src, f.start, f.end), f.src, f.keyStart, f.keyEnd, f.start, f.end), lb: [] };
        if (f.comments !== undefined) group.field.comments = f.comments;
        out.push(group.field);
      }
      group.lb.push(lb);
    }
    if (regular.length > 0) {
      const value: SyntaxNode = f.value.kind === 'list' ? new SList(regular, f.value.src, f.value.start, f.value.end) : regular[0]!;
      out.push(f.with(f.name, value));
    }
  }
  if (group !== undefined) {
    const g = group.field;
    const start = group.lb[0]!.start;
    const end = group.lb[group.lb.length - 1]!.end;
    const joined = new SField(g.name, new SMessage(group.lb, g.src, start, end), g.src, g.keyStart, g.keyEnd, g.start, end);
    joined.comments = g.comments;
    out[out.indexOf(g)] = joined;
  }
  return out;
}

function toLbEndpoint(v: SMessage, holder: SField, ctx: NormalizeContext): SField {
  const endpointFields: SField[] = [];
  const lbFields: SField[] = [];
  let endpointField: SField | undefined;
  for (const f of v.fields) {
    switch (f.name) {
      case 'address':
      case 'hostname':
      case 'health_check_config':
        endpointFields.push(f);
        break;
      case 'endpoint':
        endpointField = f;
        break;
      case 'weight':
        lbFields.push(f.with('load_balancing_weight', f.value));
        break;
      default:
        lbFields.push(f);
    }
  }
  if (endpointFields.length > 0) {
    const first = endpointFields[0]!;
    const end = endpointFields[endpointFields.length - 1]!.end;
    const ef = new SField('endpoint', new SMessage(endpointFields, first.src, first.start, end), first.src, first.keyStart, first.keyEnd, first.start, end);
    lbFields.unshift(ef);
  }
  if (endpointField !== undefined) lbFields.unshift(endpointField);
  const lb = new SMessage(lbFields, v.src, v.start, v.end);
  ctx.note(lb, {
    construct: 'endpoint-shorthand',
    span: v.span,
    envoyPlacement:
      'load_assignment.endpoints[].lb_endpoints[] { endpoint { address { … } } load_balancing_weight: N } — Envoy nests each endpoint in lb_endpoints and calls the weight load_balancing_weight',
  });
  return new SField('lb_endpoints', lb, v.src, holder.keyStart, holder.keyEnd, v.start, v.end);
}

/**
 * ConfigSource's `ads` is Envoy's AggregatedConfigSource, an empty message written `ads: {}`. meshctl's dialects
 * also take `ads: true` (and `ads: false` for no ADS); Envoy parses YAML/JSON by the proto3 JSON mapping, which
 * refuses a bool for a message field, so in an Envoy-format file `ads: true` is an error (read as ADS all the same).
 */
function aggregatedConfigSource(fields: SField[], msg: SMessage, ctx: NormalizeContext): SField[] {
  const ads = fields.find((f) => f.name === 'ads');
  if (ads === undefined || ads.value.kind !== 'scalar' || typeof ads.value.value !== 'boolean') return fields;
  const v = ads.value;
  if (ctx.format === 'envoy') {
    ctx.report({
      ruleId: 'invalid-value',
      severity: 'error',
      message: `\`ads\` is a message in Envoy (AggregatedConfigSource), not a bool; Envoy refuses \`ads: ${v.raw}\``,
      span: v.span,
      hint: v.value ? 'write `ads: {}`' : 'remove the field (an absent `ads` means no ADS)',
    });
  } else {
    ctx.note(msg, { construct: 'ads-shorthand', span: ads.span, envoyPlacement: v.value ? '`ads: {}` — an empty AggregatedConfigSource message' : 'no `ads` field at all' });
  }
  if (!v.value) return fields.filter((f) => f !== ads);
  return fields.map((f) => (f === ads ? f.with(f.name, new SMessage([], v.src, v.start, v.end)) : f));
}

/**
 * Envoy writes some numbers as RuntimeDouble (`{default_value, runtime_key}`); the model holds the default. The
 * runtime key is dropped: meshctl has no runtime layer to look it up in.
 */
function runtimeDouble(fields: SField[], name: string): SField[] {
  return fields.map((f) => {
    if (f.name !== name || f.value.kind !== 'message') return f;
    const d = f.value.fields.find((x) => x.name === 'default_value');
    if (d === undefined || f.value.fields.some((x) => x.name !== 'default_value' && x.name !== 'runtime_key')) return f;
    return f.with(f.name, d.value);
  });
}

function renameField(fields: SField[], from: string, to: string, onRename: (f: SField) => void): SField[] {
  if (!fields.some((f) => f.name === from)) return fields;
  return fields.map((f) => {
    if (f.name !== from) return f;
    onRename(f);
    return f.with(to, f.value);
  });
}

function codecShorthand(fields: SField[], msg: SMessage, ctx: NormalizeContext): SField[] {
  return renameField(fields, 'codec', 'codec_type', (f) => {
    ctx.note(msg, {
      construct: 'codec-shorthand',
      span: f.span,
      envoyPlacement: 'codec_type: HTTP2 — Envoy names the field codec_type and takes AUTO, HTTP1, HTTP2 or HTTP3',
    });
  }).map((f) => {
    if (f.name !== 'codec_type' || f.value.kind !== 'scalar' || typeof f.value.value !== 'string') return f;
    const mapped = ownKey(CODECS, f.value.value.toLowerCase());
    if (mapped === undefined || mapped === f.value.value) return f;
    const v = f.value;
    return f.with(f.name, new SScalar('bare', mapped, v.raw, v.src, v.start, v.end));
  });
}

function tlsContextWrapper(fields: SField[], msg: SMessage, ctx: NormalizeContext): SField[] {
  const i = fields.findIndex((f) => f.name === 'tls_context' && f.value.kind === 'message');
  if (i < 0) return fields;
  const w = fields[i]!;
  ctx.note(msg, {
    construct: 'tls-context-wrapper',
    span: w.keySpan,
    envoyPlacement:
      "typed_config { '@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context { … } } — Envoy has no tls_context wrapper inside typed_config",
  });
  return [...fields.slice(0, i), ...(w.value as SMessage).fields, ...fields.slice(i + 1)];
}

function certificateFiles(fields: SField[], ctx: NormalizeContext): SField[] {
  const key = fields.find((f) => f.name === 'certificate_key_file');
  const chain = fields.find((f) => f.name === 'certificate_chain_file');
  if (key === undefined && chain === undefined) return fields;
  const certFields: SField[] = [];
  const dataSource = (f: SField, name: string): SField => {
    const inner = new SField('filename', f.value, f.src, f.keyStart, f.keyEnd, f.start, f.end);
    return new SField(name, new SMessage([inner], f.src, f.start, f.end), f.src, f.keyStart, f.keyEnd, f.start, f.end);
  };
  if (chain !== undefined) certFields.push(dataSource(chain, 'certificate_chain'));
  if (key !== undefined) certFields.push(dataSource(key, 'private_key'));
  const parts = [key, chain].filter((f): f is SField => f !== undefined).sort((a, b) => a.start - b.start);
  const p0 = parts[0]!;
  const end = parts[parts.length - 1]!.end;
  const cert = new SMessage(certFields, p0.src, p0.start, end);
  const span = cert.span;
  ctx.note(cert, {
    construct: 'certificate-file-shorthand',
    span,
    envoyPlacement:
      'common_tls_context.tls_certificates[] { certificate_chain { filename } private_key { filename } } — Envoy has no certificate_key_file / certificate_chain_file fields',
  });
  const tlsField = new SField('tls_certificates', cert, p0.src, p0.keyStart, p0.keyEnd, p0.start, end);
  const rest = fields.filter((f) => f !== key && f !== chain);
  // tls_certificates[0]: before any tls_certificates written out in full.
  const firstCert = rest.findIndex((f) => f.name === 'tls_certificates');
  const at = firstCert >= 0 ? firstCert : fields.indexOf(parts[0]!) - fields.slice(0, fields.indexOf(parts[0]!)).filter((f) => f === key || f === chain).length;
  return [...rest.slice(0, at), tlsField, ...rest.slice(at)];
}

function v2TlsContext(fields: SField[], ctx: NormalizeContext, envoyType: string): SField[] {
  const i = fields.findIndex((f) => f.name === 'tls_context');
  if (i < 0) return fields;
  const f = fields[i]!;
  const { src, keyStart, keyEnd } = f;
  const tlsName = new SScalar('string', 'envoy.transport_sockets.tls', '"envoy.transport_sockets.tls"', src, keyStart, keyEnd);
  const name = new SField('name', tlsName, src, keyStart, keyEnd, keyStart, keyEnd);
  const typed = new SField('typed_config', f.value, src, keyStart, keyEnd, f.start, f.end);
  const ts = new SMessage([name, typed], src, f.start, f.end);
  ctx.note(ts, {
    construct: 'v2-tls-context',
    span: f.keySpan,
    envoyPlacement: `transport_socket { name: "envoy.transport_sockets.tls" typed_config { '@type': …tls.v3.${envoyType} … } } — tls_context is Envoy's removed v2 field`,
  });
  return [...fields.slice(0, i), f.with('transport_socket', ts), ...fields.slice(i + 1)];
}

/**
 * A filter or transport socket whose name says it is not the modelled extension (and whose typed_config carries no
 * `@type` to say otherwise): its typed_config is kept verbatim.
 */
function extensionByName(fields: SField[], modelled: ReadonlySet<string>, what: string, ctx: NormalizeContext): void {
  const nameField = fields.find((f) => f.name === 'name');
  const typed = fields.find((f) => f.name === 'typed_config');
  if (nameField === undefined || typed === undefined || typed.value.kind !== 'message') return;
  if (typed.value.fields.some((f) => f.name === '@type')) return;
  const v = nameField.value;
  if (v.kind !== 'scalar' || typeof v.value !== 'string') return;
  if (modelled.has(v.value) || !v.value.startsWith('envoy.')) return;
  ctx.keepVerbatim(typed, `${what} \`${v.value}\` is not modelled by meshctl; its typed_config is kept verbatim`);
}

function transportSocketFromHcm(chain: FilterChain, ctx: NormalizeContext): void {
  for (const filter of chain.filters ?? []) {
    const hcm: HttpConnectionManager | undefined = filter.typed_config;
    const ts = hcm?.transport_socket;
    if (hcm === undefined || ts === undefined) continue;
    const hcmMeta = hcm[META];
    const fm = hcmMeta?.fields['transport_socket'];
    delete hcm.transport_socket;
    if (hcmMeta !== undefined) delete hcmMeta.fields['transport_socket'];
    const span = fm?.keySpan ?? fm?.span ?? hcmMeta?.span;
    if (chain.transport_socket !== undefined) {
      if (span !== undefined) {
        const first = chain[META]?.fields['transport_socket']?.keySpan;
        ctx.report({
          ruleId: 'duplicate-field',
          severity: 'error',
          message: 'a transport_socket is set both on the filter chain and inside the connection manager; a filter chain has one',
          span,
          ...(first !== undefined ? { related: [{ message: 'the filter chain sets it here', span: first }] } : {}),
        });
      }
      continue;
    }
    chain.transport_socket = ts;
    const chainMeta = chain[META];
    if (chainMeta !== undefined && fm !== undefined) chainMeta.fields['transport_socket'] = fm;
    const tsMeta = ts[META];
    if (tsMeta !== undefined && span !== undefined) {
      (tsMeta.dialect ??= []).push({
        construct: 'transport-socket-in-hcm',
        span,
        envoyPlacement:
          'filter_chains[].transport_socket — Envoy takes the TLS transport socket on the filter chain, not inside the connection manager',
      });
    }
  }
}

