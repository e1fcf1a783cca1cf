/**
 * `meshctl validate` and `meshctl run` must agree on every RE2 pattern: one table, each row judged by the real CLI
 * on a generated config file and by a live request through the real proxy (one start for all accepted rows, each row
 * its own virtual host so a miss has no other route to fall to). An accepted pattern routes the path it matches to
 * the cluster and answers 404 to one it does not; a refused pattern is an error in validate and keeps run from
 * starting. Before one module translated RE2 for both, `[[:alpha:]]+`, `\pL+` and `\Q…\E` passed validate and never
 * matched in the proxy, and `[[:^digit:]]` was refused by validate though RE2 takes it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer, type EchoServer } from '../../src/app/echo-server.js';
import { runCli } from '../helpers/cli.js';
import { destroyAgent, get } from '../proxy/helpers.js';
import { spawnCli, type RunningCli } from '../proxy/cli-helpers.js';

interface Row {
  readonly re: string;
  /** What RE2 (Envoy) makes of it: accepted, or the rule that refuses it. */
  readonly expect: 'accepted' | 'invalid-regex' | 'regex-unsupported-syntax';
  /** For accepted patterns: a path the pattern matches in full, and one it does not. */
  readonly hit?: string;
  readonly miss?: string;
}

const accepted: readonly Row[] = [
  { re: '/[[:alpha:]]+', expect: 'accepted', hit: '/abc', miss: '/ab1' },
  { re: '/[[:^digit:]]+', expect: 'accepted', hit: '/ab', miss: '/a1' },
  { re: '/\\pL+', expect: 'accepted', hit: '/abc', miss: '/123' },
  { re: '/[\\p{Greek}a-z]+/\\PL', expect: 'accepted', hit: '/abc/1', miss: '/abc/d' },
  { re: '/\\p{^Greek}x', expect: 'accepted', hit: '/ax', miss: '/x' },
  { re: '(?i)/api/v[0-9]+', expect: 'accepted', hit: '/API/V2', miss: '/api/x' },
  { re: '/a(?i:b)c', expect: 'accepted', hit: '/aBc', miss: '/ABc' },
  { re: '/case(?i)less', expect: 'accepted', hit: '/caseLESS', miss: '/CASEless' },
  { re: '\\A/anchored\\z', expect: 'accepted', hit: '/anchored', miss: '/anchored/x' },
  { re: '^/caret$', expect: 'accepted', hit: '/caret', miss: '/caret/' },
  { re: '(?m)^/multi$', expect: 'accepted', hit: '/multi', miss: '/multi/' },
  { re: '(?s)/dot/.+', expect: 'accepted', hit: '/dot/any', miss: '/dot/' },
  { re: '(?U)/lazy/(a+)', expect: 'accepted', hit: '/lazy/aaa', miss: '/lazy/' },
  { re: '/\\Q.*\\E', expect: 'accepted', hit: '/.*', miss: '/xy' },
  { re: '/users/(?P<id>[0-9]+)', expect: 'accepted', hit: '/users/42', miss: '/users/x' },
  { re: '/named/(?<id>[0-9]+)', expect: 'accepted', hit: '/named/7', miss: '/named/' },
  { re: '/x{20}', expect: 'accepted', hit: `/${'x'.repeat(20)}`, miss: `/${'x'.repeat(19)}` },
  { re: '/\\d+-\\w+', expect: 'accepted', hit: '/12-ab_c', miss: '/12-' },
  { re: '/esc/\\x41\\101\\x{42}', expect: 'accepted', hit: '/esc/AAB', miss: '/esc/aab' },
  { re: '/(a|b)+c|/alt', expect: 'accepted', hit: '/alt', miss: '/altx' },
  { re: '/[^/]+/end', expect: 'accepted', hit: '/seg/end', miss: '/a/b/end' },
];

const refused: readonly Row[] = [
  { re: '/(a)\\1', expect: 'regex-unsupported-syntax' },
  { re: '/x(?=y)', expect: 'regex-unsupported-syntax' },
  { re: '/(?<!a)b', expect: 'regex-unsupported-syntax' },
  { re: '/a++', expect: 'regex-unsupported-syntax' },
  { re: '/(?>a)', expect: 'regex-unsupported-syntax' },
  { re: '/a\\Z', expect: 'regex-unsupported-syntax' },
  { re: '/\\C', expect: 'regex-unsupported-syntax' },
  { re: '/(', expect: 'invalid-regex' },
  { re: '/[z-a]', expect: 'invalid-regex' },
  { re: '/a{1001}', expect: 'invalid-regex' },
  { re: '/\\e', expect: 'invalid-regex' },
  { re: '/\\p{Foo}', expect: 'invalid-regex' },
  { re: '/\\p{Grek}', expect: 'invalid-regex' },
  { re: '/[[:nope:]]', expect: 'invalid-regex' },
  { re: '(?x)/a', expect: 'invalid-regex' },
];

let echo: EchoServer;
const children: RunningCli[] = [];

before(async () => {
  echo = await startEchoServer({ name: 'echo' });
});

after(async () => {
  for (const c of children) c.kill();
  await echo.close();
  destroyAgent();
});

/** One virtual host per row (domain `row-N`), its one route matching the row's pattern; the lines the patterns are on. */
function configFor(patterns: readonly string[], extraHosts = ''): { text: string; lines: number[] } {
  const head = `static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: ingress_http
                route_config:
                  name: local
                  virtual_hosts:
`;
  const lines: number[] = [];
  let text = head;
  patterns.forEach((re, i) => {
    text += `                    - name: row-${i}\n                      domains: ["row-${i}"]\n                      routes:\n`;
    lines.push(text.split('\n').length);
    // A JSON string is a YAML double-quoted scalar.
    text += `                        - match: { safe_regex: { regex: ${JSON.stringify(re)} } }\n                          route: { cluster: echo }\n`;
  });
  text += extraHosts;
  text += `  clusters:
    - name: echo
      connect_timeout: 1s
      load_assignment:
        cluster_name: echo
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echo.port} } } }
`;
  return { text, lines };
}

function writeConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'meshctl-re2-')), 'routes.yaml');
  writeFileSync(file, text);
  return file;
}

interface JsonDiagnostic {
  rule: string;
  severity: string;
  message: string;
  line: number;
  column: number;
  hint?: string;
}

async function validateJson(file: string): Promise<JsonDiagnostic[]> {
  const r = await runCli(['validate', '--format', 'json', file]);
  const report = JSON.parse(r.stdout) as { files: { diagnostics: JsonDiagnostic[] }[] };
  const diagnostics = report.files.flatMap((f) => f.diagnostics);
  // Exit 1 exactly when there are errors: the verdicts below read the diagnostics.
  assert.equal(r.code, diagnostics.some((d) => d.severity === 'error') ? 1 : 0, r.stderr);
  return diagnostics;
}

/** The verdicts of the two judges on each row, and validate's diagnostics. */
interface Judged {
  readonly validate: string[];
  readonly live: string[];
  readonly diagnostics: (JsonDiagnostic | undefined)[];
}

/**
 * validate on a config holding every row; then run: one proxy for the rows validate accepts (each row's hit must
 * reach the cluster and its miss get 404), one start of the rows it refuses (run must refuse, with the same rule
 * for the row). A row's verdict is `accepted` or a rule id.
 */
async function judge(rows: readonly Row[], extraHosts = '', onRunning?: (port: number) => Promise<void>): Promise<Judged> {
  const { text, lines } = configFor(rows.map((r) => r.re), extraHosts);
  const found = await validateJson(writeConfig(text));
  const diagnostics = rows.map((_, i) => found.find((d) => d.line === lines[i]));
  const validate = diagnostics.map((d) => d?.rule ?? 'accepted');
  const live: string[] = rows.map(() => 'not judged');
  const acceptedRows = rows.flatMap((r, i) => (validate[i] === 'accepted' ? [i] : []));
  const refusedRows = rows.flatMap((r, i) => (validate[i] === 'accepted' ? [] : [i]));

  if (acceptedRows.length > 0) {
    const file = writeConfig(configFor(acceptedRows.map((i) => rows[i]!.re), extraHosts).text);
    const cli = spawnCli(['run', '--admin-address', '127.0.0.1:0', '--no-access-log', file]);
    children.push(cli);
    const started = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/).catch(() => undefined);
    if (started === undefined) {
      for (const i of acceptedRows) live[i] = `run did not start: ${cli.stderr().slice(0, 400)}`;
    } else {
      const port = Number(started[1]);
      for (const [k, i] of acceptedRows.entries()) {
        const row = rows[i]!;
        if (row.hit === undefined || row.miss === undefined) {
          live[i] = 'accepted';
          continue;
        }
        try {
          const hit = await get(port, row.hit, { host: `row-${k}` });
          const miss = await get(port, row.miss, { host: `row-${k}` });
          const routed = hit.status === 200 && (JSON.parse(hit.body) as { upstream: string }).upstream === 'echo';
          live[i] = routed && miss.status === 404 ? 'accepted' : `routes wrongly: ${row.hit} → ${hit.status}, ${row.miss} → ${miss.status}`;
        } catch (err) {
          live[i] = `request failed: ${(err as Error).message}`;
        }
      }
      if (onRunning !== undefined) await onRunning(port);
      cli.kill();
    }
  }

  if (refusedRows.length > 0) {
    const file = writeConfig(configFor(refusedRows.map((i) => rows[i]!.re)).text);
    const run = await runCli(['run', '--admin-address', '127.0.0.1:0', '--no-access-log', file], { timeoutMs: 20_000 });
    for (const i of refusedRows) {
      // run prints validate's report before "not starting": the row's pattern under its rule.
      const m = new RegExp(`error\\[([a-z-]+)\\]: regex \`${escapeRegExp(rows[i]!.re)}\``).exec(run.stderr);
      live[i] = run.code === 1 && /not starting/.test(run.stderr) && m !== null ? m[1]! : `run exit ${run.code}: ${run.stderr.slice(0, 400)}`;
    }
  }
  return { validate, live, diagnostics };
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** Row-by-row table for assertion messages. */
function table(rows: readonly Row[], verdicts: readonly string[]): Record<string, string> {
  return Object.fromEntries(rows.map((r, i) => [r.re, verdicts[i]!]));
}

test('accepted RE2 patterns: validate reports nothing, the live proxy routes each match and 404s each miss', async () => {
  // A regex_rewrite through the same translation: RE2's (?i) and \pL in the pattern, \1 and a literal $ in the substitution.
  const rewriteHost = `                    - name: rewrite
                      domains: ["rewrite"]
                      routes:
                        - match: { prefix: "/" }
                          route:
                            cluster: echo
                            regex_rewrite: { pattern: { regex: "(?i)^/OLD/(\\\\pL+)" }, substitution: "/new/\\\\1$" }
`;
  let rewritten: string | undefined;
  const { validate, live } = await judge(accepted, rewriteHost, async (port) => {
    const r = await get(port, '/Old/abc/rest?q=1', { host: 'rewrite' }).catch((err: Error) => ({ status: 0, body: JSON.stringify({ path: err.message }) }));
    rewritten = (JSON.parse(r.body) as { path: string }).path;
  });
  assert.deepEqual(table(accepted, live), table(accepted, validate), 'run and validate agree on every row');
  assert.deepEqual(table(accepted, validate), table(accepted, accepted.map((r) => r.expect)), 'and with RE2');
  assert.equal(rewritten, '/new/abc$/rest?q=1');
});

test('refused RE2 patterns: validate reports each at its line with its rule and position, run refuses to start', async () => {
  const { validate, live, diagnostics } = await judge(refused);
  assert.deepEqual(table(refused, live), table(refused, validate), 'run and validate agree on every row');
  assert.deepEqual(table(refused, validate), table(refused, refused.map((r) => r.expect)), 'and with RE2');
  for (const [i, row] of refused.entries()) {
    const d = diagnostics[i]!;
    assert.ok(d.message.includes(`\`${row.re}\``), d.message);
    assert.match(d.hint ?? '', /^at character \d+: `/, `${row.re}: ${d.hint}`);
  }
});
