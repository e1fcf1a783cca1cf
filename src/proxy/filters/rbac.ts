/**
 * Envoy's RBAC HTTP filter (envoy.filters.http.rbac; docs: "Role Based Access Control (RBAC) Filter"): enforced rules
 * (ALLOW, DENY or LOG) and shadow rules that only count, over permissions (what is asked) and principals (who asks).
 * A policy matches when one of its permissions and one of its principals match; policies are tried in name order (the
 * engine keeps them in a std::map). A denied request gets 403 "RBAC: access denied" with response code details
 * `rbac_access_denied_matched_policy[<policy>]` (`none` when no ALLOW policy matched).
 *
 * Every permission and principal kind meshctl does not build (RBAC_UNBUILT) refuses the start: an access rule that
 * is not enforced must never look as if it were.
 */
import { BlockList, isIPv6 } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { HeaderMatcher, StringMatcher } from '../../config/model.js';
import type { JsonObject, JsonValue } from '../../config/json-value.js';
import { compileHeaderMatcher, compileStringMatcher, type CompileProblem } from '../../router/matchers.js';
import { connectionSocket } from '../downstream.js';
import type { LocalReply } from '../local-reply.js';
import type { Counter } from '../stats.js';
import { list, num, obj, refuse, refuseUnbuilt, str, uint } from './config-read.js';
import type { CompiledFilter, FilterEnv, FilterFactory, FilterRequest, Where } from './types.js';
import { RBAC_BUILT } from '../../config/run-fate/chain-filters.js';


const FILTER_FIELDS: ReadonlySet<string> = new Set(RBAC_BUILT.filter);
const RULES_FIELDS: ReadonlySet<string> = new Set(RBAC_BUILT.rules);
const POLICY_FIELDS: ReadonlySet<string> = new Set(RBAC_BUILT.policy);
const PERMISSIONS: ReadonlySet<string> = new Set(RBAC_BUILT.permission);
const PRINCIPALS: ReadonlySet<string> = new Set(RBAC_BUILT.principal);

type Match = (r: FilterRequest) => boolean;

/** A compiled rule set (config.rbac.v3.RBAC). */
interface Engine {
  readonly action: 'ALLOW' | 'DENY' | 'LOG';
  readonly policies: readonly { readonly name: string; readonly match: Match }[];
}

interface RbacStats {
  readonly allowed: Counter;
  readonly denied: Counter;
  readonly shadowAllowed: Counter;
  readonly shadowDenied: Counter;
  readonly logged: Counter;
  readonly notLogged: Counter;
}

/** The rules of one scope (the filter's, or a route's RBACPerRoute): null engines = no rules (allow). */
interface RbacConfig {
  readonly rules: Engine | null;
  readonly shadow: Engine | null;
  readonly stats: RbacStats;
}

/** A route's RBACPerRoute without `rbac`: the filter is off for that route. */
const DISABLED: unique symbol = Symbol('rbac disabled');
type PerRoute = RbacConfig | typeof DISABLED;

function problemsCheck(problems: CompileProblem[], at: Where): void {
  if (problems.length > 0) refuse(at, `RBAC: ${problems[0]!.message}`);
}

/** The request's address a CIDR principal or permission reads. */
type Addr = (r: FilterRequest) => string;

function ipMatcher(v: JsonValue | undefined, at: Where, addr: Addr): Match {
  const o = obj(v) ?? {};
  const prefix = str(o.address_prefix) ?? '';
  const v6 = isIPv6(prefix);
  const len = uint(o.prefix_len, v6 ? 128 : 32);
  const bl = new BlockList();
  try {
    bl.addSubnet(prefix, len, v6 ? 'ipv6' : 'ipv4');
  } catch {
    refuse(at, `RBAC: invalid CIDR range ${prefix}/${len}`);
  }
  return (r) => {
    const ip = plainIp(addr(r));
    if (ip === '') return false;
    const six = isIPv6(ip);
    try {
      return bl.check(ip, six ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
  };
}

/** An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d; Envoy sees it as a.b.c.d. */
function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function headerMatch(v: JsonValue | undefined, at: Where): Match {
  const problems: CompileProblem[] = [];
  const m = compileHeaderMatcher((obj(v) ?? {}) as HeaderMatcher, problems);
  problemsCheck(problems, at);
  return (r) => m.test(r.header(m.name));
}

/** PathMatcher: the :path without its query string (and fragment). */
function pathMatch(v: JsonValue | undefined, at: Where): Match {
  const problems: CompileProblem[] = [];
  const sm = obj(obj(v)?.path);
  if (sm === undefined) refuse(at, 'RBAC: url_path without `path` is not supported by meshctl run');
  const m = compileStringMatcher(sm as StringMatcher, problems);
  problemsCheck(problems, at);
  return (r) => {
    const p = r.path;
    let end = p.indexOf('?');
    const hash = p.indexOf('#');
    if (hash >= 0 && (end < 0 || hash < end)) end = hash;
    return m(end < 0 ? p : p.slice(0, end));
  };
}

function oneKind(o: JsonObject, allowed: ReadonlySet<string>, what: string, at: Where): string {
  const set = Object.keys(o).filter((k) => o[k] !== undefined && o[k] !== null);
  const kind = set[0];
  if (kind === undefined) refuse(at, `RBAC: an empty ${what} (no rule set)`);
  if (!allowed.has(kind)) refuse(at, `RBAC ${what} \`${kind}\` is not supported by meshctl run (it would not be enforced); supported: ${[...allowed].join(', ')}`);
  return kind;
}

function permission(v: JsonValue | undefined, at: Where): Match {
  const o = obj(v) ?? {};
  const kind = oneKind(o, PERMISSIONS, 'permission', at);
  const x = o[kind];
  switch (kind) {
    case 'any':
      return () => true;
    case 'header':
      return headerMatch(x, at);
    case 'url_path':
      return pathMatch(x, at);
    case 'and_rules': {
      const ms = list(obj(x)?.rules).map((p) => permission(p, at));
      return (r) => ms.every((m) => m(r));
    }
    case 'or_rules': {
      const ms = list(obj(x)?.rules).map((p) => permission(p, at));
      return (r) => ms.some((m) => m(r));
    }
    case 'not_rule': {
      const m = permission(x, at);
      return (r) => !m(r);
    }
    case 'destination_ip':
      return ipMatcher(x, at, (r) => r.localIp);
    case 'destination_port': {
      const port = num(x) ?? 0;
      return (r) => r.localPort === port;
    }
    default: {
      // destination_port_range: Int32Range, start inclusive, end exclusive.
      const range = obj(x) ?? {};
      const start = num(range.start) ?? 0;
      const end = num(range.end) ?? 0;
      return (r) => r.localPort >= start && r.localPort < end;
    }
  }
}

function principal(v: JsonValue | undefined, at: Where, remote: Addr): Match {
  const o = obj(v) ?? {};
  const kind = oneKind(o, PRINCIPALS, 'principal', at);
  const x = o[kind];
  switch (kind) {
    case 'any':
      return () => true;
    case 'header':
      return headerMatch(x, at);
    case 'url_path':
      return pathMatch(x, at);
    case 'and_ids': {
      const ms = list(obj(x)?.ids).map((p) => principal(p, at, remote));
      return (r) => ms.every((m) => m(r));
    }
    case 'or_ids': {
      const ms = list(obj(x)?.ids).map((p) => principal(p, at, remote));
      return (r) => ms.some((m) => m(r));
    }
    case 'not_id': {
      const m = principal(x, at, remote);
      return (r) => !m(r);
    }
    case 'direct_remote_ip':
    case 'source_ip':
      return ipMatcher(x, at, (r) => r.remoteIp);
    case 'remote_ip':
      return ipMatcher(x, at, remote);
    default:
      return authenticated(x, at);
  }
}

/**
 * Principal.authenticated: a TLS connection whose client presented a verified certificate; with principal_name, one
 * of its URI SANs, else DNS SANs, else its subject must match (Envoy's AuthenticatedMatcher). A plain-text request
 * never matches.
 */
function authenticated(v: JsonValue | undefined, at: Where): Match {
  const pn = obj(obj(v)?.principal_name);
  let nameMatch: ((s: string) => boolean) | null = null;
  if (pn !== undefined) {
    const problems: CompileProblem[] = [];
    nameMatch = compileStringMatcher(pn as StringMatcher, problems);
    problemsCheck(problems, at);
  }
  return (r) => {
    const sock = connectionSocket(r.req) as TLSSocket | undefined;
    if (sock === undefined || typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return false;
    const cert = sock.getPeerCertificate();
    if (cert === null || cert.raw === undefined) return false;
    if (nameMatch === null) return true;
    const sans = (cert.subjectaltname ?? '').split(', ');
    const uris = sans.filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
    if (uris.length > 0) return uris.some(nameMatch);
    const dns = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
    if (dns.length > 0) return dns.some(nameMatch);
    const subject = Object.entries(cert.subject ?? {})
      .map(([k, val]) => `${k}=${String(val)}`)
      .join(',');
    return nameMatch(subject);
  };
}

function engine(v: JsonValue | undefined, at: Where, remote: Addr): Engine | null {
  const o = obj(v);
  if (o === undefined) return null;
  refuseUnbuilt(o, RULES_FIELDS, at, 'RBAC rules');
  const action = (str(o.action) ?? 'ALLOW') as Engine['action'];
  const pols = obj(o.policies) ?? {};
  const policies = Object.keys(pols)
    .sort()
    .map((name) => {
      const p = obj(pols[name]) ?? {};
      refuseUnbuilt(p, POLICY_FIELDS, at, `RBAC policy ${name}`);
      const perms = list(p.permissions).map((x) => permission(x, at));
      const princs = list(p.principals).map((x) => principal(x, at, remote));
      const match: Match = (r) => perms.some((m) => m(r)) && princs.some((m) => m(r));
      return { name, match };
    });
  return { action, policies };
}

/** The engine's verdict: allowed, and the policy that decided (Envoy's effective policy id). */
function evaluate(e: Engine, r: FilterRequest): { allowed: boolean; policy: string } {
  for (const p of e.policies) {
    if (p.match(r)) return { allowed: e.action !== 'DENY', policy: p.name };
  }
  return { allowed: e.action !== 'ALLOW', policy: 'none' };
}

/**
 * The downstream's address as Envoy's remote_ip reads it: without use_remote_address, the last x-forwarded-for entry
 * (xff_num_trusted_hops 0), else the peer.
 */
function remoteAddress(useRemote: boolean): Addr {
  if (useRemote) return (r) => r.remoteIp;
  return (r) => {
    const xff = r.header('x-forwarded-for');
    if (xff === undefined || xff === '') return r.remoteIp;
    const last = xff.lastIndexOf(',');
    return (last < 0 ? xff : xff.slice(last + 1)).trim();
  };
}

function compileConfig(o: JsonObject, at: Where, env: FilterEnv, useRemote: boolean): RbacConfig {
  refuseUnbuilt(o, FILTER_FIELDS, at, 'RBAC');
  const remote = remoteAddress(useRemote);
  const prefix = `${env.httpPrefix}${str(o.rules_stat_prefix) ?? ''}rbac.`;
  const shadowPrefix = prefix + (str(o.shadow_rules_stat_prefix) ?? '');
  const s = env.store;
  return {
    rules: engine(o.rules, at, remote),
    shadow: engine(o.shadow_rules, at, remote),
    stats: {
      allowed: s.counter(prefix + 'allowed'),
      denied: s.counter(prefix + 'denied'),
      logged: s.counter(prefix + 'logged'),
      notLogged: s.counter(prefix + 'not_logged'),
      shadowAllowed: s.counter(shadowPrefix + 'shadow_allowed'),
      shadowDenied: s.counter(shadowPrefix + 'shadow_denied'),
    },
  };
}

function denied(policy: string): LocalReply {
  return { status: 403, flag: 0, body: 'RBAC: access denied', details: `rbac_access_denied_matched_policy[${policy.replace(/\s/g, '_')}]` };
}

class RbacFilter implements CompiledFilter<PerRoute> {
  constructor(
    readonly name: string,
    readonly config: RbacConfig,
  ) {}

  decode(r: FilterRequest, perRoute: PerRoute | undefined): LocalReply | null {
    if (perRoute === DISABLED) return null;
    const c = perRoute ?? this.config;
    const st = c.stats;
    if (c.shadow !== null) {
      if (evaluate(c.shadow, r).allowed) st.shadowAllowed.value++;
      else st.shadowDenied.value++;
    }
    const rules = c.rules;
    if (rules === null) return null;
    const v = evaluate(rules, r);
    if (rules.action === 'LOG') {
      if (v.policy !== 'none') st.logged.value++;
      else st.notLogged.value++;
      return null;
    }
    if (v.allowed) {
      st.allowed.value++;
      return null;
    }
    st.denied.value++;
    return denied(v.policy);
  }
}

export const rbacFactory: FilterFactory<PerRoute> = {
  typeUrls: ['type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC'],
  names: ['envoy.filters.http.rbac'],
  perRouteTypeUrls: ['type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute'],
  compile(name, config, at, env) {
    return new RbacFilter(name, compileConfig(config, at, env, env.useRemoteAddress));
  },
  compilePerRoute(config, at, env) {
    const inner = obj(config.rbac);
    return inner === undefined ? DISABLED : compileConfig(inner, at, env, env.useRemoteAddress);
  },
};
