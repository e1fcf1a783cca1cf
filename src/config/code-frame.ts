/**
 * A code frame: the source lines around a span with line numbers and a caret underline, the way Babel and rustc
 * show where a problem is. Tabs are expanded (tab stop 4) so the underline lines up whatever the terminal does.
 */
import type { SourceFile, Span } from './source.js';

export interface CodeFrameOptions {
  /** ANSI colour for the marker and the gutter. */
  readonly color?: boolean;
  /** Lines shown before the span (default 1) and after it (default 1). */
  readonly linesAbove?: number;
  readonly linesBelow?: number;
  /** Longest span shown in full; longer ones show their first and last lines (default 6). */
  readonly maxSpanLines?: number;
}

const TAB = 4;

export function codeFrame(source: SourceFile, span: Span, opts: CodeFrameOptions = {}): string {
  const color = opts.color === true;
  const paint = (code: string, s: string): string => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const total = source.lineCount;
  const startLine = clamp(span.line, 1, total);
  const endLine = clamp(Math.max(span.endLine, span.line), startLine, total);
  const from = Math.max(1, startLine - (opts.linesAbove ?? 1));
  const to = Math.min(total, endLine + (opts.linesBelow ?? 1));
  const maxSpanLines = opts.maxSpanLines ?? 6;
  const width = String(to).length;
  const out: string[] = [];
  for (let line = from; line <= to; line++) {
    const inSpan = line >= startLine && line <= endLine;
    if (inSpan && endLine - startLine + 1 > maxSpanLines && line > startLine + 1 && line < endLine - 1) {
      if (line === startLine + 2) out.push(paint('2', ` ${' '.repeat(width)} ⋮`));
      continue;
    }
    const full = shownLine(source, line);
    // A minified file is one line of megabytes: show a window of it around the span, never the whole line.
    const cut = windowOf(full, line === startLine ? span.column : 1);
    const raw = cut.text;
    const text = expandTabs(raw);
    const gutter = `${inSpan ? '>' : ' '} ${String(line).padStart(width)} |`;
    out.push(`${inSpan ? paint('31;1', gutter) : paint('2', gutter)}${text === '' ? '' : ' ' + text}`);
    if (!inSpan) continue;
    // Underline: from the span's column on its first line, to its end column on its last line (inside the window).
    const startCol = line === startLine ? span.column - cut.shift : firstNonSpace(raw);
    const endCol = line === endLine && span.endLine === line ? Math.min(span.endColumn - cut.shift, raw.length + 1) : raw.length + 1;
    const a = visualColumn(raw, startCol);
    const b = Math.max(a + 1, visualColumn(raw, endCol));
    const marker = ' '.repeat(a - 1) + '^'.repeat(b - a);
    out.push(`${paint('2', `  ${' '.repeat(width)} |`)} ${paint('31;1', marker)}`);
  }
  return out.join('\n');
}

// Private keys written inline (`inline_string: "-----BEGIN PRIVATE KEY-----\n…"`) must not reach a terminal or a CI
// log through a code frame: their body is masked, keeping every character's position so the caret still lines up.
const PRIVATE_KEY = /(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)([\s\S]*?)(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const maskedLines = new WeakMap<SourceFile, string[] | null>();

function shownLine(source: SourceFile, line: number): string {
  let lines = maskedLines.get(source);
  if (lines === undefined) {
    lines = source.text.includes('PRIVATE KEY')
      ? source.text
          .replace(PRIVATE_KEY, (_m, begin: string, body: string, end: string) => begin + body.replace(/[A-Za-z0-9+/=]/g, '*') + end)
          .split('\n')
          .map((l) => l.replace(/\r$/, ''))
      : null;
    maskedLines.set(source, lines);
  }
  return lines === null ? source.lineText(line) : (lines[line - 1] ?? '');
}

/** Longest line shown whole; a longer one is cut to this many characters around the span, marked with `…`. */
const MAX_LINE = 160;
const CONTEXT_BEFORE = 40;

/**
 * The part of `line` shown for a span starting at `column`, and by how many columns the window moved the text left
 * (a leading `…` takes one column, so carets computed on the window still point at the span).
 */
function windowOf(line: string, column: number): { text: string; shift: number } {
  if (line.length <= MAX_LINE) return { text: line, shift: 0 };
  const from = Math.max(0, Math.min(column - 1 - CONTEXT_BEFORE, line.length - MAX_LINE));
  const to = Math.min(line.length, from + MAX_LINE);
  const head = from > 0 ? '…' : '';
  return { text: head + line.slice(from, to) + (to < line.length ? '…' : ''), shift: from - head.length };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(n, lo), Math.max(lo, hi));
}

function firstNonSpace(line: string): number {
  const m = /\S/.exec(line);
  return m === null ? 1 : m.index + 1;
}

/** The 1-based display column of a 1-based character column, with tabs expanded. */
function visualColumn(line: string, column: number): number {
  let v = 1;
  for (let i = 0; i < column - 1; i++) {
    if (i < line.length && line[i] === '\t') v += TAB - ((v - 1) % TAB);
    else v += 1;
  }
  return v;
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) {
    if (ch === '\t') out += ' '.repeat(TAB - (out.length % TAB));
    else out += ch;
  }
  return out;
}
