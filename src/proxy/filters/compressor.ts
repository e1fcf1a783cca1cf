/**
 * Envoy's compressor HTTP filter (envoy.filters.http.compressor; docs: "Compressor" filter) with the gzip library
 * (envoy.compression.gzip.compressor, node's zlib) or brotli (node's zlib brotli); zstd is refused (node 20 has no
 * zstd). A response is compressed when the request's Accept-Encoding accepts the library's encoding (q-values,
 * `*`, `identity`), its content type is in the list (Envoy's default list when none is given), its content-length is
 * at least min_content_length (30) or unknown, it has no Content-Encoding, no `Cache-Control: no-transform`, and it
 * has a body (not HEAD, 1xx, 204, 304). Then Content-Length goes (HTTP/1.1 falls back to chunked), Content-Encoding
 * is set, a strong ETag becomes weak (or, with disable_on_etag_header, an ETag prevents compression), and each body
 * chunk is compressed and flushed as it comes (no buffering of the whole body). A compressible response gets
 * `Vary: Accept-Encoding` either way.
 *
 * Stats: `http.<stat_prefix>.compressor.<library name>.<gzip|brotli>.` compressed, not_compressed, no_accept_header,
 * content_length_too_small, total_uncompressed_bytes, total_compressed_bytes.
 */
import zlib from 'node:zlib';
import type { JsonObject, JsonValue } from '../../config/json-value.js';
import type { OutHeaders } from '../../http/headers.js';
import type { Counter } from '../stats.js';
import { bool, list, obj, refuse, refuseUnbuilt, str, uint } from './config-read.js';
import type { BodyEncoder, CompiledFilter, FilterEnv, FilterFactory, FilterRequest, FilterState, Where } from './types.js';
import { COMPRESSOR_BUILT } from '../../config/run-fate/chain-filters.js';

const GZIP = 'type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip';
const BROTLI = 'type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli';
const ZSTD = 'type.googleapis.com/envoy.extensions.compression.zstd.compressor.v3.Zstd';

/** Envoy's default content types (compressor filter, `content_type` unset). */
const DEFAULT_TYPES = ['application/javascript', 'application/json', 'application/xhtml+xml', 'image/svg+xml', 'text/css', 'text/html', 'text/plain', 'text/xml'];

const BUILT: ReadonlySet<string> = new Set(COMPRESSOR_BUILT);

interface Library {
  readonly encoding: 'gzip' | 'br';
  readonly statName: 'gzip' | 'brotli';
  make(): zlib.Gzip | zlib.BrotliCompress;
  readonly flushFlag: number;
}

const GZIP_LEVELS: Readonly<Record<string, number>> = {
  DEFAULT_COMPRESSION: zlib.constants.Z_DEFAULT_COMPRESSION,
  BEST_SPEED: 1,
  BEST_COMPRESSION: 9,
  ...Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`COMPRESSION_LEVEL_${i + 1}`, i + 1])),
};
const GZIP_STRATEGIES: Readonly<Record<string, number>> = {
  DEFAULT_STRATEGY: zlib.constants.Z_DEFAULT_STRATEGY,
  FILTERED: zlib.constants.Z_FILTERED,
  HUFFMAN_ONLY: zlib.constants.Z_HUFFMAN_ONLY,
  RLE: zlib.constants.Z_RLE,
  FIXED: zlib.constants.Z_FIXED,
};

function library(v: JsonValue | undefined, at: Where): Library {
  const tc = obj(obj(v)?.typed_config);
  const type = str(tc?.['@type']) ?? '';
  if (type === GZIP) {
    const o = tc!;
    // Envoy's gzip defaults: memory_level 5, window_bits 12, chunk_size 4096.
    const opts: zlib.ZlibOptions = {
      level: GZIP_LEVELS[str(o.compression_level) ?? 'DEFAULT_COMPRESSION'] ?? zlib.constants.Z_DEFAULT_COMPRESSION,
      strategy: GZIP_STRATEGIES[str(o.compression_strategy) ?? 'DEFAULT_STRATEGY'] ?? zlib.constants.Z_DEFAULT_STRATEGY,
      memLevel: uint(o.memory_level, 5),
      windowBits: uint(o.window_bits, 12),
      chunkSize: uint(o.chunk_size, 4096),
    };
    return { encoding: 'gzip', statName: 'gzip', make: () => zlib.createGzip(opts), flushFlag: zlib.constants.Z_SYNC_FLUSH };
  }
  if (type === BROTLI) {
    const o = tc!;
    refuseUnbuilt(o, new Set(['quality', 'window_bits', 'input_block_bits', 'chunk_size', 'encoder_mode']), at, 'brotli compressor');
    const params: Record<number, number> = {
      [zlib.constants.BROTLI_PARAM_QUALITY]: uint(o.quality, 3),
      [zlib.constants.BROTLI_PARAM_LGWIN]: uint(o.window_bits, 18),
      [zlib.constants.BROTLI_PARAM_LGBLOCK]: uint(o.input_block_bits, 24),
      [zlib.constants.BROTLI_PARAM_MODE]: str(o.encoder_mode) === 'TEXT' ? zlib.constants.BROTLI_MODE_TEXT : str(o.encoder_mode) === 'FONT' ? zlib.constants.BROTLI_MODE_FONT : zlib.constants.BROTLI_MODE_GENERIC,
    };
    const chunkSize = uint(o.chunk_size, 4096);
    return { encoding: 'br', statName: 'brotli', make: () => zlib.createBrotliCompress({ params, chunkSize }), flushFlag: zlib.constants.BROTLI_OPERATION_FLUSH };
  }
  if (type === ZSTD) refuse(at, 'compressor: zstd is not supported by meshctl run (node 20 has no zstd)');
  return refuse(at, `compressor: compressor_library ${type || '(none)'} is not supported by meshctl run (gzip and brotli are)`);
}

interface Stats {
  readonly compressed: Counter;
  readonly notCompressed: Counter;
  readonly noAcceptHeader: Counter;
  readonly tooSmall: Counter;
  readonly uncompressedBytes: Counter;
  readonly compressedBytes: Counter;
}

interface Settings {
  readonly lib: Library;
  readonly enabled: boolean;
  readonly minLength: number;
  readonly types: ReadonlySet<string>;
  readonly disableOnEtag: boolean;
  readonly removeAcceptEncoding: boolean;
  readonly stats: Stats;
}

/** A route's CompressorPerRoute: off, or remove_accept_encoding_header overridden. */
type PerRoute = { readonly disabled: true } | { readonly disabled: false; readonly removeAcceptEncoding: boolean | undefined };

function compileSettings(o: JsonObject, at: Where, env: FilterEnv): Settings {
  refuseUnbuilt(o, BUILT, at, 'compressor');
  const lib = library(o.compressor_library, at);
  const resp = obj(o.response_direction_config);
  const common = obj(resp?.common_config);
  // The deprecated top-level fields apply when response_direction_config does not say.
  const enabledFlag = obj(common?.enabled) ?? obj(o.runtime_enabled);
  const types = list(common?.content_type ?? o.content_type).map((t) => String(t).toLowerCase());
  const name = str(obj(o.compressor_library)?.name) ?? lib.statName;
  const p = `${env.httpPrefix}compressor.${name}.${lib.statName}.`;
  const s = env.store;
  return {
    lib,
    enabled: enabledFlag === undefined ? true : bool(enabledFlag.default_value, true),
    minLength: uint(common?.min_content_length ?? o.content_length, 30),
    types: new Set(types.length > 0 ? types : DEFAULT_TYPES),
    disableOnEtag: bool(resp?.disable_on_etag_header ?? o.disable_on_etag_header),
    removeAcceptEncoding: bool(resp?.remove_accept_encoding_header ?? o.remove_accept_encoding_header),
    stats: {
      compressed: s.counter(p + 'compressed'),
      notCompressed: s.counter(p + 'not_compressed'),
      noAcceptHeader: s.counter(p + 'no_accept_header'),
      tooSmall: s.counter(p + 'content_length_too_small'),
      uncompressedBytes: s.counter(p + 'total_uncompressed_bytes'),
      compressedBytes: s.counter(p + 'total_compressed_bytes'),
    },
  };
}

/** Accept-Encoding's verdict for `encoding`: its q (or `*`'s), against an explicit identity's q. */
function acceptsEncoding(header: string, encoding: string): boolean {
  let mine = -1;
  let star = -1;
  let identity = -1;
  for (const part of header.split(',')) {
    const [token, ...params] = part.trim().split(';');
    const name = (token ?? '').trim().toLowerCase();
    if (name === '') continue;
    let q = 1;
    for (const prm of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(prm);
      if (m) q = Number(m[1]);
    }
    if (name === encoding) mine = q;
    else if (name === '*') star = q;
    else if (name === 'identity') identity = q;
  }
  const q = mine >= 0 ? mine : star;
  return q > 0 && q >= identity;
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

function addVary(out: OutHeaders): void {
  const vary = headerText(out.vary);
  if (vary === undefined || vary === '') out.vary = 'accept-encoding';
  else if (!/(^|,)\s*accept-encoding\s*(,|$)/i.test(vary)) out.vary = `${vary}, accept-encoding`;
}

/** What decode saw: the request's Accept-Encoding (undefined: none), and that it had a body-carrying method. */
interface Seen {
  readonly accept: string | undefined;
  readonly head: boolean;
}

class CompressorFilter implements CompiledFilter<PerRoute, Seen> {
  constructor(
    readonly name: string,
    private readonly s: Settings,
  ) {}

  decode(r: FilterRequest, p: PerRoute | undefined, state: FilterState<Seen>): null {
    if (p?.disabled === true) return null;
    state.value = { accept: r.header('accept-encoding'), head: r.method === 'HEAD' };
    const remove = (p !== undefined ? p.removeAcceptEncoding : undefined) ?? this.s.removeAcceptEncoding;
    // The upstream then never compresses itself (Envoy removes the header before the router forwards it).
    if (remove) delete r.req.headers['accept-encoding'];
    return null;
  }

  encodeHeaders(_r: FilterRequest, status: number, out: OutHeaders, local: boolean, _p: PerRoute | undefined, state: FilterState<Seen>): BodyEncoder | null {
    const seen = state.value;
    const s = this.s;
    if (seen === undefined || !s.enabled || local) return null;
    const st = s.stats;
    const len = headerText(out['content-length']);
    if (len !== undefined && Number(len) < s.minLength) {
      st.tooSmall.value++;
      st.notCompressed.value++;
      return null;
    }
    const ctype = (headerText(out['content-type']) ?? '').split(';')[0]!.trim().toLowerCase();
    const etag = headerText(out.etag);
    const compressible =
      s.types.has(ctype) &&
      !/(^|,)\s*no-transform\s*(,|$)/i.test(headerText(out['cache-control']) ?? '') &&
      !(s.disableOnEtag && etag !== undefined) &&
      out['content-encoding'] === undefined;
    if (!compressible) {
      st.notCompressed.value++;
      return null;
    }
    addVary(out);
    const noBody = seen.head || status < 200 || status === 204 || status === 304;
    if (seen.accept === undefined) st.noAcceptHeader.value++;
    if (noBody || seen.accept === undefined || !acceptsEncoding(seen.accept, s.lib.encoding)) {
      st.notCompressed.value++;
      return null;
    }
    st.compressed.value++;
    delete out['content-length'];
    out['content-encoding'] = s.lib.encoding;
    if (etag !== undefined && !etag.startsWith('W/')) out.etag = `W/${etag}`;
    return new StreamEncoder(s.lib, st);
  }
}

/** One response's compression stream: each chunk written and flushed at once, so data streams through. */
class StreamEncoder implements BodyEncoder {
  private readonly z: zlib.Gzip | zlib.BrotliCompress;
  private emit: ((b: Buffer) => void) | undefined;

  constructor(
    private readonly lib: Library,
    private readonly st: Stats,
  ) {
    this.z = lib.make();
    this.z.on('data', (b: Buffer) => {
      st.compressedBytes.value += b.length;
      this.emit?.(b);
    });
    this.z.on('error', () => undefined);
  }

  write(chunk: Buffer, emit: (out: Buffer) => void): void {
    this.emit = emit;
    this.st.uncompressedBytes.value += chunk.length;
    this.z.write(chunk);
    this.z.flush(this.lib.flushFlag);
  }

  end(emit: (out: Buffer) => void, done: () => void): void {
    this.emit = emit;
    this.z.once('end', done);
    this.z.end();
  }

  destroy(): void {
    this.z.destroy();
  }
}

export const compressorFactory: FilterFactory<PerRoute> = {
  typeUrls: ['type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor'],
  names: ['envoy.filters.http.compressor'],
  perRouteTypeUrls: ['type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute'],
  compile(name, config, at, env) {
    return new CompressorFilter(name, compileSettings(config, at, env));
  },
  compilePerRoute(config) {
    if (bool(config.disabled)) return { disabled: true };
    const v = obj(obj(config.overrides)?.response_direction_config)?.remove_accept_encoding_header;
    return { disabled: false, removeAcceptEncoding: v === undefined ? undefined : bool(v) };
  },
};
