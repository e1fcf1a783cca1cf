/**
 * `--help` reads as one voice (issue 17, item 10): every command's summary, in `meshctl --help` and in its own
 * `--help`, is an imperative sentence in sentence case without a trailing period; every option is described by a
 * lower-case phrase (or one starting with an acronym such as HTTP or RANDOM) without a trailing period, and no empty
 * default such as `(default: [])` shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

interface Entry {
  readonly term: string;
  readonly text: string;
}

/** The entries of one section (`Commands:`, `Options:`) of commander's help: term, then its wrapped description. */
function section(help: string, title: string): Entry[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return [];
  const entries: { term: string; text: string[] }[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const m = /^ {2}(\S(?:.*?\S)?)(?: {2,}(.*))?$/.exec(line);
    if (m !== null) entries.push({ term: m[1]!, text: m[2] !== undefined ? [m[2]] : [] });
    else entries[entries.length - 1]!.text.push(line.trim());
  }
  return entries.map((e) => ({ term: e.term, text: e.text.join(' ') }));
}

/** The summary paragraph of `meshctl CMD --help` (after the usage line). */
function summaryOf(help: string): string {
  const paragraphs = help.split('\n\n');
  return paragraphs[1]!.replace(/\s*\n\s*/g, ' ').trim();
}

/** An imperative verb in sentence case: a capitalised first word that is not a third-person form ("Checks"). */
function assertSummaryStyle(where: string, summary: string): void {
  assert.match(summary, /^[A-Z][a-z]+ /, `${where}: "${summary}" should start with a capitalised verb`);
  const verb = summary.split(' ')[0]!;
  assert.ok(!/[^s]s$/.test(verb), `${where}: "${verb}" is not imperative`);
  assert.ok(!summary.endsWith('.'), `${where}: "${summary}" ends with a period`);
}

function assertOptionStyle(where: string, o: Entry): void {
  // A lower-case phrase, or one that opens with an acronym (HTTP/1.1, RANDOM, JSON-lines).
  assert.match(o.text, /^(?:[a-z]|[A-Z]{2,}\b)/, `${where} ${o.term}: "${o.text}" should start lower-case`);
  assert.ok(!/\.$/.test(o.text.replace(/\(default: [^)]*\)$/, '').trim()), `${where} ${o.term}: "${o.text}" ends with a period`);
  assert.doesNotMatch(o.text, /\(default: \[\]\)/, `${where} ${o.term}: an empty default is noise`);
}

test('meshctl --help: every command summary is imperative, sentence case, no trailing period', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  const commands = section(r.stdout, 'Commands');
  assert.deepEqual(
    commands.map((c) => c.term.split(' ')[0]),
    ['validate', 'convert', 'simulate', 'graph', 'run', 'serve', 'demo', 'prometheus-config', 'help'],
  );
  for (const c of commands) assertSummaryStyle(`meshctl --help, ${c.term}`, c.text);
  for (const o of section(r.stdout, 'Options')) assertOptionStyle('meshctl', o);
});

test("each command's own --help: the same summary style, and options described alike", async () => {
  const top = await runCli(['--help']);
  const names = section(top.stdout, 'Commands')
    .map((c) => c.term.split(' ')[0]!)
    .filter((n) => n !== 'help');
  const colourTexts = new Set<string>();
  for (const name of names) {
    const r = await runCli([name, '--help']);
    assert.equal(r.code, 0, `${name} --help`);
    assertSummaryStyle(`meshctl ${name} --help`, summaryOf(r.stdout));
    const options = section(r.stdout, 'Options');
    assert.ok(options.length > 1, `${name} has options`);
    for (const o of options) {
      assertOptionStyle(`meshctl ${name}`, o);
      if (o.term === '--no-color') colourTexts.add(o.text.split(' ').slice(0, 3).join(' '));
    }
    for (const a of section(r.stdout, 'Arguments')) assertOptionStyle(`meshctl ${name} argument`, a);
  }
  // One spelling for one flag across commands.
  assert.deepEqual([...colourTexts], ['no colours in']);
});

test("a command's usage error points at that command's --help", async () => {
  const r = await runCli(['validate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing required argument 'files'\n\(run `meshctl validate --help` for usage\)/);
});
