/**
 * A small glob expander (Node 20 has no fs.glob): `*` and `?` within a path segment, `[abc]` classes, `{a,b}`
 * alternatives and `**` for any number of directories. Dot-files match only when the pattern segment starts with a
 * dot; `**` does not descend into node_modules or .git. Results are sorted.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function hasMagic(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** Expand `{a,b}` alternatives (nested allowed). */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        if (commas.length === 0) break;
        const parts: string[] = [];
        let from = open + 1;
        for (const c2 of commas) {
          parts.push(pattern.slice(from, c2));
          from = c2 + 1;
        }
        parts.push(pattern.slice(from, i));
        const rest = pattern.slice(i + 1);
        const head = pattern.slice(0, open);
        return parts.flatMap((p) => expandBraces(head + p + rest));
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  return [pattern];
}

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((e) => {
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          isDir = statSync(join(dir, e.name)).isDirectory();
        } catch {
          isDir = false;
        }
      }
      return { name: e.name, isDir };
    });
  } catch {
    return [];
  }
}

/** The files (not directories) matching one pattern, relative paths kept relative. */
export function globFiles(pattern: string, cwd = process.cwd()): string[] {
  const out = new Set<string>();
  for (const p of expandBraces(pattern)) {
    const absolute = p.startsWith('/');
    const segs = p.split('/').filter((s, i) => s !== '' || i === 0);
    let i = 0;
    let base = absolute ? '/' : '';
    if (absolute) segs.shift();
    while (i < segs.length - 1 && !hasMagic(segs[i]!)) {
      base = base === '' ? segs[i]! : join(base, segs[i]!);
      i++;
    }
    walk(base, segs.slice(i), cwd, out);
  }
  return [...out].sort();
}

function walk(base: string, segs: string[], cwd: string, out: Set<string>): void {
  const dirAbs = (d: string): string => (d === '' ? cwd : d.startsWith('/') ? d : join(cwd, d));
  const rel = (d: string, name: string): string => (d === '' ? name : join(d, name));
  if (segs.length === 0) return;
  const [seg, ...rest] = segs as [string, ...string[]];
  if (seg === '**') {
    // Zero directories…
    walk(base, rest, cwd, out);
    // …or one more, then ** again.
    for (const e of listDir(dirAbs(base))) {
      if (!e.isDir || e.name.startsWith('.') || e.name === 'node_modules') continue;
      walk(rel(base, e.name), segs, cwd, out);
    }
    return;
  }
  if (!hasMagic(seg)) {
    const next = rel(base, seg);
    if (rest.length === 0) {
      try {
        if (statSync(dirAbs(next)).isFile()) out.add(next);
      } catch {
        /* no match */
      }
    } else walk(next, rest, cwd, out);
    return;
  }
  const re = segmentRegex(seg);
  for (const e of listDir(dirAbs(base))) {
    if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
    if (!re.test(e.name)) continue;
    if (rest.length === 0) {
      if (!e.isDir) out.add(rel(base, e.name));
    } else if (e.isDir) walk(rel(base, e.name), rest, cwd, out);
  }
}
