/**
 * HCM `normalize_path` and `merge_slashes`: the :path rewrite Envoy applies before routing
 * (ConnectionManagerUtility::maybeNormalizePath), so routes match, and the upstream sees, the normalised path.
 * Only the part before `?` changes; the query is kept verbatim.
 */

export interface PathNormalizeOptions {
  /** RFC 3986 dot-segment removal, `%XX` of unreserved characters decoded, `\` read as `/` (Envoy's canonicalPath). */
  readonly normalize: boolean;
  /** `//` → `/` (after normalisation, as Envoy orders them). */
  readonly mergeSlashes: boolean;
  /** Refuse (null) a path whose `..` climbs above the root. Envoy clamps at the root instead (`/../a` → `/a`);
   * this is the stricter variant some deployments ask for. */
  readonly rejectAboveRoot: boolean;
}

/** Returns the rewritten path (the same string when nothing changes), or null when the request must get 400. */
export type PathNormalizer = (path: string) => string | null;

/** Compiled once per listener generation; null when both options are off, so the request path skips it entirely. */
export function compilePathNormalizer(o: PathNormalizeOptions): PathNormalizer | null {
  if (!o.normalize && !o.mergeSlashes) return null;
  return (full) => {
    const q = full.indexOf('?');
    let path = q >= 0 ? full.slice(0, q) : full;
    // Absolute-form targets and `*` are left alone: there is no path to canonicalise.
    if (path.charCodeAt(0) !== 47 /* / */) return full;
    if (o.normalize) {
      const n = canonicalPath(path, o.rejectAboveRoot);
      if (n === null) return null;
      path = n;
    }
    if (o.mergeSlashes && path.includes('//')) path = path.replace(/\/{2,}/g, '/');
    return q >= 0 ? path + full.slice(q) : path;
  };
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : m;
  });
}

/** `path` starts with `/`. Null only when `rejectAboveRoot` and a `..` has nothing left to remove. */
export function canonicalPath(path: string, rejectAboveRoot: boolean): string | null {
  // Fast path: nothing that canonicalisation could change.
  if (!/[.%\\]/.test(path)) return path;
  let p = path.includes('\\') ? path.replace(/\\/g, '/') : path;
  if (p.includes('%')) p = decodeUnreserved(p);
  const segs = p.split('/');
  const out: string[] = [];
  const last = segs.length - 1;
  for (let i = 1; i <= last; i++) {
    const s = segs[i]!;
    if (s === '.') {
      if (i === last) out.push('');
    } else if (s === '..') {
      if (out.length > 0) out.pop();
      else if (rejectAboveRoot) return null;
      if (i === last) out.push('');
    } else out.push(s);
  }
  return '/' + out.join('/');
}
