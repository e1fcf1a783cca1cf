/**
 * Lossless round trips over the fixture corpus: every config under fixtures/{seed,textproto,envoy,valid,quickstart}
 * parses, prints in text-proto, YAML and JSON, and parses back to the same model; its Envoy output parses back to the
 * model minus what Envoy cannot hold (plus the defaults Envoy requires); comments survive text-proto → YAML →
 * text-proto.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseConfig, readConfigFile, type ParseResult } from '../../src/config/index.js';
import { emitConfig } from '../../src/config/convert.js';
import type { Bootstrap, OutputFormat } from '../../src/config/model.js';
import { FIXTURES } from '../helpers/cli.js';
import { assertSameModel, fixtureFiles, plain } from './helpers.js';
import { envoyShapeProblems } from './envoy-shape.js';

/** The formats meshctl reads back (Envoy's text format is judged by protoc instead: test/convert/pbtext.test.ts). */
type Readable = Exclude<OutputFormat, 'envoy-textproto'>;
const EXT: Record<Readable, string> = { textproto: 'textproto', yaml: 'yaml', json: 'json', envoy: 'yaml', 'envoy-json': 'json' };

function reparse(text: string, to: Readable): ParseResult {
  const r = parseConfig(text, `converted.${EXT[to]}`, { from: to === 'envoy-json' ? 'envoy' : to });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(
    errors.map((d) => `${d.span.line}:${d.span.column} ${d.message}`),
    [],
    `the ${to} output does not parse:\n${text}`,
  );
  return r;
}

const files = fixtureFiles();

test('the fixture corpus is there', () => {
  assert.ok(files.filter((f) => f.startsWith('seed/')).length >= 5, `seed fixtures missing: ${files.join(', ')}`);
});

async function load(file: string): Promise<Bootstrap> {
  const r = await readConfigFile(join(FIXTURES, file));
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.message), [], `${file} does not parse`);
  assert.ok(r.config !== undefined);
  return r.config;
}

for (const file of files) {
  for (const to of ['textproto', 'yaml', 'json'] as const) {
    test(`${file} → ${to} → parse gives the same model`, async () => {
      const model = await load(file);
      const { text } = emitConfig(model, to);
      assertSameModel(reparse(text, to).config, model);
      // printing is deterministic: the reparsed model prints the same text (YAML: the comment tests below)
      if (to !== 'yaml') assert.equal(emitConfig(reparse(text, to).config!, to).text, text);
    });
  }
}

/** Envoy names for the names the article uses. */
const CANONICAL: Record<string, string> = {
  'envoy.http_connection_manager': 'envoy.filters.network.http_connection_manager',
  'envoy.router': 'envoy.filters.http.router',
  tls: 'envoy.transport_sockets.tls',
};

type Plain = Record<string, unknown>;
const asObj = (v: unknown): Plain => v as Plain;
const list = (v: unknown): Plain[] => (Array.isArray(v) ? (v as Plain[]) : []);

/**
 * What an Envoy bootstrap written from `model` reads back as: the article-only constructs gone, the names Envoy
 * uses, and the HCM defaults Envoy requires (stat_prefix, the router filter).
 */
function envoyExpectation(model: Bootstrap): Plain {
  const m = plain(model) as Plain;
  delete m.http_server;
  delete m.tls_context;
  delete m.dns_query;
  const sr = m.static_resources as Plain | undefined;
  if (sr !== undefined) {
    delete sr.service_cluster_discovery_refresh_service;
    if (Object.keys(sr).length === 0) delete m.static_resources;
    for (const c of list(sr.clusters)) {
      delete c.dns_query;
      if (c.transport_socket !== undefined) asObj(c.transport_socket).name = CANONICAL.tls;
      const la = c.load_assignment as Plain | undefined;
      if (la !== undefined && la.cluster_name === undefined) la.cluster_name = c.name;
    }
    for (const l of list(sr.listeners)) {
      for (const fc of list(l.filter_chains)) {
        if (fc.transport_socket !== undefined) asObj(fc.transport_socket).name = CANONICAL.tls;
        for (const f of list(fc.filters)) {
          if (typeof f.name === 'string') f.name = CANONICAL[f.name] ?? f.name;
          const hcm = f.typed_config as Plain | undefined;
          if (hcm === undefined) continue;
          if (f.name === undefined) f.name = 'envoy.filters.network.http_connection_manager';
          if (hcm.stat_prefix === undefined || hcm.stat_prefix === '') hcm.stat_prefix = 'ingress_http';
          const filters = list(hcm.http_filters);
          hcm.http_filters =
            filters.length === 0
              ? [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }]
              : filters.map((hf) => {
                  const name = typeof hf.name === 'string' ? (CANONICAL[hf.name] ?? hf.name) : hf.name;
                  if (name === 'envoy.filters.http.router' && hf.typed_config === undefined) {
                    return { ...hf, name, typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
                  }
                  return { ...hf, name };
                });
        }
      }
    }
  }
  return m;
}

/** meshctl does not model Envoy's typed_dns_resolver_config: it reads back as an unmodeled field. */
function withoutResolverConfig(model: Bootstrap | undefined): Plain {
  const m = plain(model) as Plain;
  const strip = (node: Plain): void => {
    const u = node.unmodeled as Plain | undefined;
    if (u === undefined) return;
    delete u.typed_dns_resolver_config;
    if (Object.keys(u).length === 0) delete node.unmodeled;
  };
  strip(m);
  for (const c of list(asObj(m.static_resources ?? {}).clusters)) strip(c);
  return m;
}

for (const file of files) {
  test(`${file} → envoy: Envoy's shape, and it parses back to the model minus what Envoy cannot hold`, async () => {
    const model = await load(file);
    const yaml = emitConfig(model, 'envoy');
    const json = emitConfig(model, 'envoy-json');
    const bootstrap = JSON.parse(json.text) as unknown;
    assert.deepEqual(envoyShapeProblems(bootstrap), []);
    const back = reparse(yaml.text, 'envoy').config;
    assert.deepStrictEqual(withoutResolverConfig(back), envoyExpectation(model));
    assertSameModel(reparse(json.text, 'envoy-json').config, back);
    // nothing more is lost the second time round
    assert.equal(emitConfig(back!, 'envoy').text, yaml.text);
  });
}

test('a text-proto comment survives text-proto → YAML → text-proto', async () => {
  const source = [
    'static_resources {',
    '  # the weighted cluster from the article',
    '  clusters {',
    '    # weights 100 and 200: one third and two thirds',
    '    name: "example-cluster"  # referenced by the route',
    '    connect_timeout: 0.25s',
    '    load_assignment {  ',
    '      # filled in by the refresh service',
    '      cluster_name: "example-cluster"',
    '    }  # no static endpoints',
    '  }',
    '}',
    '',
  ].join('\n');
  const first = parseConfig(source, 'c.textproto');
  const yaml = emitConfig(first.config!, 'yaml').text;
  assert.match(yaml, /# weights 100 and 200: one third and two thirds/);
  assert.match(yaml, /name: example-cluster # referenced by the route/);
  const again = emitConfig(reparse(yaml, 'yaml').config!, 'textproto').text;
  for (const comment of [
    '# the weighted cluster from the article',
    '# weights 100 and 200: one third and two thirds',
    '# referenced by the route',
    '# filled in by the refresh service',
    '# no static endpoints',
  ]) {
    assert.ok(again.includes(comment), `lost ${comment}:\n${again}`);
  }
  assert.match(again, /name: "example-cluster" {2}# referenced by the route/);
  assert.match(again, /^ {6}# filled in by the refresh service\n {6}cluster_name: "example-cluster"$/m);
});

/**
 * Comments the YAML reader does not read back yet: on the first line of a file, and after the last field of a
 * block (before `}` or the end of the document), which YAML can only write as a comment after a mapping.
 */
function readerGap(text: string, comment: string): boolean {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.includes('#') && l.slice(l.indexOf('#') + 1).trim() === comment);
  if (at <= 0) return at === 0;
  for (let i = at + 1; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    return t.startsWith('}');
  }
  return true;
}

test('comments of the text-proto fixtures survive text-proto → YAML → text-proto', async (t) => {
  const gaps: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.textproto'))) {
    const r = await readConfigFile(join(FIXTURES, file));
    // the comments the model holds (the parser keeps one comment block per field name, the first occurrence's)
    const direct = emitConfig(r.config!, 'textproto').text;
    const sourceComments = [...direct.matchAll(/#\s?(.*)$/gm)].map((m) => m[1]!.trim()).filter((c) => c !== '');
    if (sourceComments.length === 0) continue;
    const yaml = emitConfig(r.config!, 'yaml').text;
    const back = emitConfig(reparse(yaml, 'yaml').config!, 'textproto').text;
    const backComments = new Set([...back.matchAll(/#\s?(.*)$/gm)].map((m) => m[1]!.trim()));
    const lost = sourceComments.filter((c) => !backComments.has(c));
    const unexplained = lost.filter((c) => !readerGap(r.source.text, c));
    assert.deepEqual(unexplained, [], `${file}: comments lost`);
    gaps.push(...lost.map((c) => `${file}: ${c}`));
  }
  if (gaps.length > 0) t.todo(`the YAML reader drops ${gaps.length} comment(s) at the file start or before a closing brace: ${gaps.join(' | ')}`);
});
