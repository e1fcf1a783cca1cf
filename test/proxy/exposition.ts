/** A strict reader of the Prometheus text exposition format 0.0.4 (what a scraper accepts), for the proxy tests. */
import assert from 'node:assert/strict';

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface Family {
  readonly type: string;
  readonly samples: Sample[];
}

/** Families by name; fails the test on anything a scraper would reject. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?\d+)?$/;
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    const ty = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (ty) {
      assert.ok(!families.has(ty[1]!), `family ${ty[1]} declared twice`);
      families.set(ty[1]!, { type: ty[2]!, samples: [] });
      current = ty[1]!;
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment: ${line}`);
    const m = sampleRe.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      labelRe.lastIndex = 0;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = labelRe.exec(m[3])) !== null) {
        labels[lm[1]!] = lm[2]!;
        consumed = labelRe.lastIndex;
      }
      assert.equal(consumed, m[3].length, `bad labels in ${line}`);
    }
    const fam = current !== undefined ? families.get(current) : undefined;
    assert.ok(fam && (m[1] === current || m[1]!.startsWith(current + '_')), `sample ${m[1]} outside its family`);
    fam.samples.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return families;
}
