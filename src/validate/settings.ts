/**
 * `.meshctl.yaml`: project-wide rule settings.
 *
 *     rules:
 *       unused-cluster: off          # off | info | warning | error
 *       privileged-port: warning
 *     checkFiles: true               # as --check-files
 *
 * Found in the current directory unless `--config` names one.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../config/usage-error.js';
import type { RuleSetting } from './suppress.js';

interface ProjectSettings {
  readonly rules: Record<string, RuleSetting>;
  readonly checkFiles?: boolean;
}

const VALUES = new Set(['off', 'info', 'warning', 'error']);
const ALIASES: Record<string, RuleSetting> = { warn: 'warning', '0': 'off', '1': 'warning', '2': 'error', false: 'off' };

export async function loadSettings(path: string, knownRules: ReadonlySet<string>): Promise<ProjectSettings> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new UsageError(`${path}${pos ? `:${pos.line}:${pos.col}` : ''}: ${e.message.split('\n')[0]}`);
  }
  const data = (doc.toJS() ?? {}) as unknown;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError(`${path}: expected a mapping`);
  const obj = data as Record<string, unknown>;
  const rules: Record<string, RuleSetting> = {};
  const raw = obj.rules ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${path}: \`rules\` must be a mapping of rule id to off|info|warning|error`);
  for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
    const s = String(v);
    const setting = VALUES.has(s) ? (s as RuleSetting) : ALIASES[s];
    if (setting === undefined) throw new UsageError(`${path}: rule \`${id}\`: \`${s}\` is not one of off, info, warning, error`);
    if (!knownRules.has(id)) {
      const { didYouMean } = await import('../config/suggest.js');
      const best = didYouMean(id, knownRules);
      throw new UsageError(`${path}: unknown rule \`${id}\`${best ? ` (did you mean \`${best}\`?)` : ''}`);
    }
    rules[id] = setting;
  }
  for (const key of Object.keys(obj)) {
    if (key !== 'rules' && key !== 'checkFiles') throw new UsageError(`${path}: unknown setting \`${key}\` (expected \`rules\` or \`checkFiles\`)`);
  }
  return { rules, ...(typeof obj.checkFiles === 'boolean' ? { checkFiles: obj.checkFiles } : {}) };
}
