/** Shared wording for "did you mean" hints. */
import { didYouMean } from '../../config/suggest.js';

/** Suggestions are computed against at most this many candidates of a similar length, so a config with thousands of
 * clusters and many dangling references stays linear. */
const MAX_CANDIDATES = 5000;

/** Hints per file: past this many, dangling references get no suggestion (each costs a scan of the candidates). */
const MAX_HINTS = 200;
let hintsLeft = MAX_HINTS;

/** Called by the engine before each file. */
export function resetHintBudget(): void {
  hintsLeft = MAX_HINTS;
}

export function nameHint(name: string, candidates: Iterable<string>): string | undefined {
  if (hintsLeft <= 0) return undefined;
  hintsLeft--;
  const limit = Math.max(1, Math.floor(name.length / 3));
  const near: string[] = [];
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > limit) continue;
    near.push(c);
    if (near.length >= MAX_CANDIDATES) break;
  }
  const best = didYouMean(name, near);
  return best === undefined ? undefined : `did you mean \`${best}\`?`;
}
