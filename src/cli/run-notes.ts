/**
 * `run` prints the config's report at start-up, as `validate` would. Two of validate's notes depend on flags only
 * `run` has: privileged-port is about the port the listener will bind, which `--listen-port-offset` moves, and
 * dns-resolver is about where DNS queries go, which `--dns-server` decides. This rewrites those notes for the flags.
 */
import type { Diagnostic } from '../config/diagnostic.js';
import type { Bootstrap } from '../config/model.js';
import { spanOf } from '../config/node-meta.js';
import type { Span } from '../config/source.js';
import { RULES_BY_ID } from '../validate/index.js';
import { formatMessage } from '../validate/rule.js';

interface RunFlags {
  readonly listenPortOffset?: number;
  readonly dnsServers?: readonly string[];
}

const samePlace = (a: Span, b: Span | undefined): boolean => b !== undefined && a.line === b.line && a.column === b.column && a.file === b.file;

/** The diagnostics as they hold for this run, and the lines to print after them. */
export function notesForRun(diagnostics: readonly Diagnostic[], config: Bootstrap, flags: RunFlags): { diagnostics: Diagnostic[]; lines: string[] } {
  const lines: string[] = [];
  const offset = flags.listenPortOffset ?? 0;
  const dns = flags.dnsServers !== undefined && flags.dnsServers.length > 0;
  let dnsNotes = 0;
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (d.ruleId === 'dns-resolver' && dns) {
      dnsNotes++;
      continue;
    }
    if (d.ruleId === 'privileged-port' && offset !== 0) {
      const moved = atEffectivePort(d, config, offset);
      if (moved !== undefined) out.push(moved);
      continue;
    }
    out.push(d);
  }
  if (dnsNotes > 0) lines.push(`meshctl: DNS queries go to ${flags.dnsServers!.join(', ')} (--dns-server), not to the nameservers the config names`);
  return { diagnostics: out, lines };
}

/** The privileged-port note for the port the listener binds with the offset: none when that port is 1024 or above. */
function atEffectivePort(d: Diagnostic, config: Bootstrap, offset: number): Diagnostic | undefined {
  const listener = (config.static_resources?.listeners ?? []).find((l) => samePlace(d.span, spanOf(l.address?.socket_address, 'port_value')));
  const written = listener?.address?.socket_address?.port_value;
  if (listener === undefined || written === undefined) return d;
  const port = written + offset;
  if (port >= 1024 || port <= 0) return undefined;
  const template = RULES_BY_ID.get('privileged-port')!.messages['low']!;
  return { ...d, message: `${formatMessage(template, { name: listener.name ?? '', port })} (port_value ${written} + --listen-port-offset ${offset})` };
}
