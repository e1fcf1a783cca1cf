/**
 * Source positions. Every model node and every diagnostic points back into the file it came from, so a message can
 * name the file, line and column and draw a code frame.
 */

/** A region of a source file. Lines and columns are 1-based; the end is exclusive (the column after the last char). */
export interface Span {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** The text of a file, with a line index built once so offsets turn into line:column in O(log n). */
export class SourceFile {
  readonly name: string;
  readonly text: string;
  private lineStarts: number[] | undefined;

  constructor(name: string, text: string) {
    this.name = name;
    this.text = text;
  }

  /** The offset at which each line starts (built on first use, then shared by every reader and span). */
  starts(): readonly number[] {
    if (this.lineStarts === undefined) {
      const starts = [0];
      const t = this.text;
      for (let i = t.indexOf('\n'); i !== -1; i = t.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    return this.lineStarts;
  }

  /** The 0-based line of a 0-based offset. */
  private lineOf(offset: number): number {
    const starts = this.starts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** 1-based line and column of a 0-based character offset. */
  position(offset: number): { line: number; column: number } {
    const lo = this.lineOf(offset);
    return { line: lo + 1, column: offset - this.starts()[lo]! + 1 };
  }

  /** A span covering the character offsets [start, end). */
  span(start: number, end: number): Span {
    const e = Math.max(start, end);
    const starts = this.starts();
    const a = this.lineOf(start);
    const b = e === start ? a : this.lineOf(e);
    return { file: this.name, line: a + 1, column: start - starts[a]! + 1, endLine: b + 1, endColumn: e - starts[b]! + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const starts = this.starts();
    if (line < 1 || line > starts.length) return '';
    const from = starts[line - 1]!;
    const to = line < starts.length ? starts[line]! - 1 : this.text.length;
    return this.text.slice(from, to).replace(/\r$/, '');
  }

  get lineCount(): number {
    return this.starts().length;
  }
}

/** A span at a single point (for diagnostics about a whole file, or a missing field). */
export function pointSpan(file: string, line = 1, column = 1): Span {
  return { file, line, column, endLine: line, endColumn: column + 1 };
}
