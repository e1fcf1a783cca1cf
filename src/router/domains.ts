/**
 * Envoy's virtual-host lookup (`RouteMatcher::findVirtualHost`): the lower-cased Host is tried as (1) an exact
 * domain, (2) the longest `*suffix` wildcard, (3) the longest `prefix*` wildcard, (4) the single `*`. A wildcard must
 * cover at least one character. Ports are part of the value unless the config says to ignore them.
 */
export class DomainIndex<T> {
  private readonly exact = new Map<string, T>();
  /** Suffix wildcards grouped by literal length, longest first. */
  private readonly suffixes: { len: number; map: Map<string, T> }[] = [];
  private readonly prefixes: { len: number; map: Map<string, T> }[] = [];
  private star: T | undefined;
  private onlyStar = false;
  /** Duplicate domains found while adding (Envoy rejects them; meshctl keeps the first). */
  readonly duplicates: string[] = [];

  add(domain: string, value: T): void {
    const d = domain.toLowerCase();
    if (d === '*') {
      if (this.star !== undefined) this.duplicates.push(domain);
      else this.star = value;
      return;
    }
    if (d.startsWith('*')) return this.addGrouped(this.suffixes, d.slice(1), value, domain);
    if (d.endsWith('*')) return this.addGrouped(this.prefixes, d.slice(0, -1), value, domain);
    if (this.exact.has(d)) this.duplicates.push(domain);
    else this.exact.set(d, value);
  }

  /** Call once after the last add. */
  seal(): void {
    this.suffixes.sort((a, b) => b.len - a.len);
    this.prefixes.sort((a, b) => b.len - a.len);
    this.onlyStar = this.star !== undefined && this.exact.size === 0 && this.suffixes.length === 0 && this.prefixes.length === 0;
  }

  /** The value for a host (already without port when ports are ignored); undefined = no virtual host (404). */
  find(host: string | undefined): T | undefined {
    if (this.onlyStar) return this.star;
    if (host === undefined || host === '') return undefined;
    let h = host;
    for (let i = 0; i < h.length; i++) {
      const c = h.charCodeAt(i);
      if (c >= 65 && c <= 90) {
        h = h.toLowerCase();
        break;
      }
    }
    const exact = this.exact.get(h);
    if (exact !== undefined) return exact;
    for (const g of this.suffixes) {
      if (g.len >= h.length) continue;
      const v = g.map.get(h.slice(h.length - g.len));
      if (v !== undefined) return v;
    }
    for (const g of this.prefixes) {
      if (g.len >= h.length) continue;
      const v = g.map.get(h.slice(0, g.len));
      if (v !== undefined) return v;
    }
    return this.star;
  }

  private addGrouped(groups: { len: number; map: Map<string, T> }[], literal: string, value: T, domain: string): void {
    let g = groups.find((x) => x.len === literal.length);
    if (!g) groups.push((g = { len: literal.length, map: new Map() }));
    if (g.map.has(literal)) this.duplicates.push(domain);
    else g.map.set(literal, value);
  }
}

/** The host without its port: `example.com:8080` → `example.com`, `[::1]:80` → `[::1]`. */
export function stripPort(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon < 0) return authority;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close >= 0 && colon > close ? authority.slice(0, colon) : authority;
  }
  if (authority.indexOf(':') !== colon) return authority; // a bare IPv6 address
  return authority.slice(0, colon);
}
