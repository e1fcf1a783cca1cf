/**
 * The `--watch` live view (ink): progress and running shares with bars per endpoint. Loaded only when stdout is a
 * terminal and --watch is given, so nothing else pays for React.
 */
import { createElement as h, type ReactElement } from 'react';
import { Box, Text, render } from 'ink';
import type { SimReport } from './report-types.js';
import { bar, pct } from './render.js';

interface ViewState {
  report: SimReport | undefined;
  done: number;
  total: number | undefined;
}

function View({ state }: { state: ViewState }): ReactElement {
  const { report, done, total } = state;
  const progress = total ? done / total : undefined;
  const rows: ReactElement[] = [];
  for (const l of report?.listeners ?? []) {
    rows.push(h(Text, { key: `l-${l.name}`, bold: true }, `listener ${l.name}  ${l.requests} requests  404: ${l.notFound}`));
    for (const r of l.routes) {
      for (const c of r.clusters) {
        rows.push(h(Text, { key: `c-${l.name}-${r.id}-${c.name}` }, `  ${r.id} → ${c.name} (${c.policy ?? '-'})  ${c.requests}`));
        for (const e of c.endpoints) {
          rows.push(
            h(
              Box,
              { key: `e-${l.name}-${r.id}-${c.name}-${e.address}` },
              h(Text, null, `    ${e.address.padEnd(22)} ${pct(e.share).padStart(8)} `),
              h(Text, { color: 'cyan' }, bar(e.share, 30)),
              h(Text, { dimColor: true }, ` expected ${pct(e.expectedShare)}`),
            ),
          );
        }
      }
    }
  }
  return h(
    Box,
    { flexDirection: 'column' },
    h(
      Text,
      { color: 'green' },
      progress === undefined ? `simulating… ${done} requests` : `simulating ${bar(progress, 30)} ${(progress * 100).toFixed(0)}%  ${done}/${total}`,
    ),
    ...rows,
  );
}

export function startWatchView(): { update(report: SimReport, done: number, total: number | undefined): void; close(): Promise<void> } {
  const state: ViewState = { report: undefined, done: 0, total: undefined };
  const instance = render(h(View, { state: { ...state } }));
  return {
    update(report, done, total) {
      instance.rerender(h(View, { state: { report, done, total } }));
    },
    async close() {
      instance.clear();
      instance.unmount();
      await instance.waitUntilExit().catch(() => undefined);
    },
  };
}
