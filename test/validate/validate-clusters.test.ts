/**
 * A route to a cluster that is not defined, as Envoy judges it: with `validate_clusters` (the default of a route
 * configuration written in the bootstrap) Envoy refuses the config, once, at the route; with `validate_clusters:
 * false` it loads, and the route answers 503 with flag NC at run time (cluster_not_found_response_code's default).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeTemp } from '../proxy/helpers.js';
import { oneListenerYaml, spawnCli, type RunningCli } from '../proxy/cli-helpers.js';
import { runCli } from '../helpers/cli.js';

const children: RunningCli[] = [];
after(() => {
  for (const c of children) c.kill();
});

function config(validateClusters: string): string {
  return oneListenerYaml({
    routeConfigExtra: validateClusters,
    routes: `                        - match: { prefix: "/" }
                          route:
                            cluster: nowhere`,
    clusters: {},
  });
}

interface JsonDiag {
  rule: string;
  severity: string;
  line: number;
}

async function diagnostics(file: string): Promise<JsonDiag[]> {
  const r = await runCli(['validate', '--target', 'run', '--format', 'json', file]);
  return (JSON.parse(r.stdout) as { files: { diagnostics: JsonDiag[] }[] }).files[0]!.diagnostics.filter((d) => d.severity !== 'info');
}

test('an unknown route cluster: one error by default; with validate_clusters false a warning, and run answers 503 NC', async () => {
  const strict = await diagnostics(writeTemp('validate-clusters-default.yaml', config('')));
  assert.deepEqual(strict.map((d) => [d.rule, d.severity, d.line]), [['route-unknown-cluster', 'error', 21]], 'reported once, at the route');

  const file = writeTemp('validate-clusters-false.yaml', config('                  validate_clusters: false\n'));
  const lenient = await diagnostics(file);
  assert.deepEqual(lenient.map((d) => [d.rule, d.severity]), [['route-unknown-cluster', 'warning']]);

  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--access-log', '-', '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
  const res = await fetch(`http://127.0.0.1:${m[1]}/`);
  assert.equal(res.status, 503);
  await res.arrayBuffer();
  for (let i = 0; i < 100 && !cli.stdout().includes('"response_flags"'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(cli.stdout(), /"response_code":503,"response_flags":"NC"/);
});
