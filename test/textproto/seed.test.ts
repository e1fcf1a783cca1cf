/** The article's snippets (fixtures/seed) and meshctl's own text-proto fixtures read with no diagnostics, into the expected shape. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/cli.js';
import { SourceFile } from '../../src/config/source.js';
import { parseTextproto } from '../../src/config/textproto/parser.js';
import type { SMessage } from '../../src/config/syntax.js';
import { at, diagLine, path, scalar } from './util.js';

function read(dir: string, name: string): SMessage {
  const file = join(FIXTURES, dir, name);
  const r = parseTextproto(new SourceFile(file, readFileSync(file, 'utf8')));
  assert.deepEqual(r.diagnostics.map(diagLine), [], `${dir}/${name}`);
  assert.ok(r.tree !== undefined);
  return r.tree;
}

for (const dir of ['seed', 'textproto']) {
  const names = readdirSync(join(FIXTURES, dir)).filter((n) => n.endsWith('.textproto'));
  test(`fixtures/${dir} holds text-proto files`, () => assert.ok(names.length >= 2));
  for (const name of names) {
    test(`fixtures/${dir}/${name} parses with no diagnostics`, () => {
      const tree = read(dir, name);
      assert.ok(tree.fields.length > 0);
    });
  }
}

test('full-example: wrapper blocks, bare durations, repeated endpoints with weight, lists, typed_config', () => {
  const tree = read('seed', 'full-example.textproto');
  assert.deepEqual(tree.fields.map((f) => f.name), ['static_resources']);
  const sr = path(tree, 'static_resources');
  assert.equal(at(sr.keySpan), '1:1-1:17');
  assert.equal(sr.span.line, 1);
  assert.equal(sr.span.endLine, 80);

  // clusters { cluster { … } } is just two nested messages: the decoder unwraps.
  const cluster = path(tree, 'static_resources', 'clusters', 'cluster');
  assert.equal(at(cluster.keySpan), '3:5-3:12');
  const timeout = path(cluster.value, 'connect_timeout');
  assert.equal(at(timeout.keySpan), '5:7-5:22');
  assert.equal(at(timeout.span), '5:7-5:29');
  assert.deepEqual(
    { style: scalar(timeout.value).style, value: scalar(timeout.value).value, at: at(timeout.value.span) },
    { style: 'bare', value: '0.25s', at: '5:24-5:29' },
  );

  const la = path(cluster.value, 'load_assignment');
  const w0 = path(la.value, 'endpoints#0', 'weight');
  const w1 = path(la.value, 'endpoints#1', 'weight');
  assert.deepEqual([scalar(w0.value).value, scalar(w1.value).value], [100, 200]);
  assert.equal(at(w0.span), '15:11-15:22');
  assert.equal(at(w1.value.span), '24:19-24:22');
  assert.equal(scalar(path(la.value, 'endpoints#1', 'address', 'socket_address', 'address').value).value, '10.244.0.3');

  const hcm = path(tree, 'static_resources', 'listeners', 'listener', 'filter_chains', 'filter_chain', 'filters', 'typed_config');
  assert.deepEqual(
    (hcm.value as SMessage).fields.map((f) => f.name),
    ['codec', 'route_config', 'transport_socket'],
  );
  assert.equal(at(path(hcm.value, 'codec').span), '43:15-43:29');
  assert.equal(path(hcm.value, 'transport_socket').keySpan.line, 59);
  const domains = path(hcm.value, 'route_config', 'virtual_hosts', 'domains');
  assert.equal(domains.value.kind, 'list');
  assert.equal(at(domains.value.span), '48:28-48:33');
  if (domains.value.kind === 'list') {
    assert.deepEqual(domains.value.items.map((i) => [scalar(i).style, scalar(i).value, at(i.span)]), [['string', '*', '48:29-48:32']]);
  }
  const url = path(tree, 'static_resources', 'service_cluster_discovery_refresh_service', 'service_url');
  assert.equal(scalar(url.value).value, 'http://127.0.0.1:8081/cluster/example-cluster');
  assert.equal(at(url.keySpan), '78:5-78:16');
});

test('dns-query and prometheus: a list of one string, a bare 10s', () => {
  const dns = read('seed', 'dns-query.textproto');
  const ns = path(dns, 'dns_query', 'nameservers');
  assert.equal(ns.value.kind, 'list');
  assert.equal(at(ns.span), '3:3-3:27');
  const prom = read('seed', 'prometheus.textproto');
  const si = path(prom, 'http_server', 'prometheus', 'scrape_configs', 'scrape_interval');
  assert.deepEqual([scalar(si.value).style, scalar(si.value).raw, at(si.value.span)], ['bare', '10s', '6:24-6:27']);
});

test('comments fixture: leading, trailing, brace-line and closing comments land where documented', () => {
  const tree = read('textproto', 'comments.textproto');
  const sr = path(tree, 'static_resources');
  assert.deepEqual(sr.comments, { leading: ['Leading comment of the first field.', 'It has two lines.'] });
  const clusters = path(sr.value, 'clusters');
  assert.deepEqual(clusters.comments, {
    leading: [
      'a comment on the line of an opening brace goes to the first field inside',
      'Leading comment of `clusters`.',
    ],
    trailing: 'trailing comment of `clusters`, on its closing brace',
  });
  assert.deepEqual(path(clusters.value, 'name').comments, { trailing: 'trailing comment of `name`' });
  assert.deepEqual(path(clusters.value, 'connect_timeout').comments, { trailing: 'trailing comment of `connect_timeout`' });
  assert.deepEqual((clusters.value as SMessage).trailingComments, ['Before the closing brace of the cluster.']);
  assert.deepEqual(tree.trailingComments, ['At the end of the document.']);
});
