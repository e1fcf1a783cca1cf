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
 */
import type { Diagnostic } from './diagnostic.js';
import type { MessageDesc, Schema } from './descriptor.js';
import { META } from './model-base.js';
import type { DialectNote, ModelNode } from './model-base.js';
import type { DiscoveryRefreshService, FilterChain, HttpConnectionManager } from './model.generated.js';
import type { Span } from './source.js';
import type { SField, SMessage, SScalar, SyntaxNode } from './syntax.js';

/** What the decoder offers the rewrites. */
export interface NormalizeContext {
  readonly schema: Schema;
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
      fields = aggregatedConfigSource(fields);
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
  return fields === msg.fields ? msg : { ...msg, fields };
}

/** Rewrites that need the decoded children. */
export function afterDecode(desc: MessageDesc, node: ModelNode, ctx: NormalizeContext): void {
  if (desc.name === 'FilterChain') transportSocketFromHcm(node as FilterChain, ctx);
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
  return last === undefined ? undefined : decodeURIComponent(last);
}

// ---------------------------------------------------------------------------------------------------------------

function singularOf(plural: string): string[] {
  const out = [plural.replace(/s$/, '')];
  if (plural.endsWith('es')) out.push(plural.slice(0, -2));
  if (plural.endsWith('ies')) out.push(plural.slice(0, -3) + 'y');
  return out;
}

function unwrapWrapperBlocks(desc: MessageDesc, fields: SField[], ctx: NormalizeContext): SField[] {
  if (!fields.some((f) => isWrapperField(desc, f))) return fields;
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
        const field: SField = { name: f.name, keySpan: w.keySpan, span: w.span, value: v };
        const comments = w.comments ?? f.comments;
        if (comments !== undefined) field.comments = comments;
        out.push(field);
      }
    }
  }
  return out;
}

function isWrapperField(desc: MessageDesc, f: SField): boolean {
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
    const field: SField = { name: target, keySpan: f.keySpan, span: f.span, value: f.value };
    if (f.comments !== undefined) field.comments = f.comments;
    moved.push(field);
  }
  if (moved.length === 0) return fields;
  const existing = rest.findIndex((f) => f.name === 'static_resources' && f.value.kind === 'message');
  if (existing >= 0) {
    const sr = rest[existing]!;
    const value = sr.value as SMessage;
    rest[existing] = { ...sr, value: { ...value, fields: [...value.fields, ...moved] } };
    return rest;
  }
  const first = moved[0]!;
  const last = moved[moved.length - 1]!;
  const span = joinSpans(first.span, last.span);
  const sr: SField = {
    name: 'static_resources',
    keySpan: first.keySpan,
    span,
    value: { kind: 'message', fields: moved, span },
  };
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
        group = { field: { name: 'endpoints', keySpan: f.keySpan, span: f.span, value: { kind: 'message', fields: [], span: f.span } }, lb: [] };
        if (f.comments !== undefined) group.field.comments = f.comments;
        out.push(group.field);
      }
      group.lb.push(lb);
    }
    if (regular.length > 0) {
      const value: SyntaxNode = f.value.kind === 'list' ? { ...f.value, items: regular } : regular[0]!;
      out.push({ ...f, value });
    }
  }
  if (group !== undefined) {
    const spans = group.lb.map((l) => l.span);
    const span = joinSpans(spans[0]!, spans[spans.length - 1]!);
    const idx = out.indexOf(group.field);
    out[idx] = { ...group.field, span: joinSpans(group.field.span, span), value: { kind: 'message', fields: group.lb, span } };
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
        lbFields.push({ ...f, name: 'load_balancing_weight' });
        break;
      default:
        lbFields.push(f);
    }
  }
  if (endpointFields.length > 0) {
    const span = joinSpans(endpointFields[0]!.span, endpointFields[endpointFields.length - 1]!.span);
    const ef: SField = { name: 'endpoint', keySpan: endpointFields[0]!.keySpan, span, value: { kind: 'message', fields: endpointFields, span } };
    lbFields.unshift(ef);
  }
  if (endpointField !== undefined) lbFields.unshift(endpointField);
  const lb: SMessage = { kind: 'message', fields: lbFields, span: v.span };
  ctx.note(lb, {
    construct: 'endpoint-shorthand',
    span: v.span,
    envoyPlacement:
      'load_assignment.endpoints[].lb_endpoints[] { endpoint { address { … } } load_balancing_weight: N } — Envoy nests each endpoint in lb_endpoints and calls the weight load_balancing_weight',
  });
  const field: SField = { name: 'lb_endpoints', keySpan: holder.keySpan, span: v.span, value: lb };
  return field;
}

/**
 * Envoy writes ConfigSource's `ads` as an empty AggregatedConfigSource message (`ads: {}`); the model holds it as a
 * boolean, so `ads: {}` reads as `ads: true`.
 */
function aggregatedConfigSource(fields: SField[]): SField[] {
  return fields.map((f) => {
    if (f.name !== 'ads' || f.value.kind !== 'message' || f.value.fields.length > 0) return f;
    return { ...f, value: { kind: 'scalar', style: 'bool', value: true, raw: '{}', span: f.value.span } };
  });
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
    return { ...f, value: d.value };
  });
}

function renameField(fields: SField[], from: string, to: string, onRename: (f: SField) => void): SField[] {
  if (!fields.some((f) => f.name === from)) return fields;
  return fields.map((f) => {
    if (f.name !== from) return f;
    onRename(f);
    return { ...f, name: to };
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
    const value: SScalar = { kind: 'scalar', style: 'bare', value: mapped, raw: f.value.raw, span: f.value.span };
    return { ...f, value };
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
    const inner: SField = { name: 'filename', keySpan: f.keySpan, span: f.span, value: f.value };
    return { name, keySpan: f.keySpan, span: f.span, value: { kind: 'message', fields: [inner], span: f.span } };
  };
  if (chain !== undefined) certFields.push(dataSource(chain, 'certificate_chain'));
  if (key !== undefined) certFields.push(dataSource(key, 'private_key'));
  const parts = [key, chain].filter((f): f is SField => f !== undefined).sort((a, b) => a.span.line - b.span.line || a.span.column - b.span.column);
  const span = joinSpans(parts[0]!.span, parts[parts.length - 1]!.span);
  const cert: SMessage = { kind: 'message', fields: certFields, span };
  ctx.note(cert, {
    construct: 'certificate-file-shorthand',
    span,
    envoyPlacement:
      'common_tls_context.tls_certificates[] { certificate_chain { filename } private_key { filename } } — Envoy has no certificate_key_file / certificate_chain_file fields',
  });
  const tlsField: SField = { name: 'tls_certificates', keySpan: parts[0]!.keySpan, span, value: cert };
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
  const name: SField = {
    name: 'name',
    keySpan: f.keySpan,
    span: f.keySpan,
    value: { kind: 'scalar', style: 'string', value: 'envoy.transport_sockets.tls', raw: '"envoy.transport_sockets.tls"', span: f.keySpan },
  };
  const typed: SField = { name: 'typed_config', keySpan: f.keySpan, span: f.span, value: f.value };
  const ts: SMessage = { kind: 'message', fields: [name, typed], span: f.span };
  ctx.note(ts, {
    construct: 'v2-tls-context',
    span: f.keySpan,
    envoyPlacement: `transport_socket { name: "envoy.transport_sockets.tls" typed_config { '@type': …tls.v3.${envoyType} … } } — tls_context is Envoy's removed v2 field`,
  });
  const out: SField = { name: 'transport_socket', keySpan: f.keySpan, span: f.span, value: ts };
  if (f.comments !== undefined) out.comments = f.comments;
  return [...fields.slice(0, i), out, ...fields.slice(i + 1)];
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

function joinSpans(a: Span, b: Span): Span {
  return { file: a.file, line: a.line, column: a.column, endLine: b.endLine, endColumn: b.endColumn };
}
