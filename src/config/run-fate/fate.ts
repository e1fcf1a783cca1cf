/**
 * The vocabulary of the run-fate table (docs/run-support.md): what `meshctl run` does with one config element.
 * - `enforced`: run acts on it as Envoy does;
 * - `refused`: run will not start with it (always for what guards access and is not built), nor take it from xDS;
 * - `warned`: run starts and says once, with file:line, that it accepts the element but does not act on it.
 */
export type Fate = 'enforced' | 'refused' | 'warned';

export interface FateEntry {
  readonly fate: Fate;
  /** Why, or what run does instead: the diagnostic's tail and the doc's note. */
  readonly note?: string;
  /** Enforced by code that no end-to-end `meshctl run` test exercises yet (the doc says so). */
  readonly untested?: true;
}

/** A model field's fate, with the exceptions some values or places have. */
export interface FieldFate extends FateEntry {
  /** Values (enum names, or the comma-separated words of retry_on) whose fate differs from the field's. */
  readonly values?: Readonly<Record<string, FateEntry>>;
  /** The fate of any value `values` does not name, when it differs from the field's. */
  readonly otherValues?: FateEntry;
  /** The field's fate where it serves clients (under a listener), when it differs. */
  readonly downstream?: FieldFate;
  /** The field's fate towards upstreams (under a cluster), when it differs. */
  readonly upstream?: FieldFate;
}

export const ENFORCED: FateEntry = { fate: 'enforced' };

/** Enforced, but no `meshctl run` test exercises it yet. */
export const UNTESTED: FateEntry = { fate: 'enforced', untested: true };

export function warned(note: string): FateEntry {
  return { fate: 'warned', note };
}

export function refused(note: string): FateEntry {
  return { fate: 'refused', note };
}
