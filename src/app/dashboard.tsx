/**
 * `meshctl run --dashboard`: a live terminal view for a person watching — requests per second, status classes, and
 * per-endpoint shares and latency. Loaded lazily (ink and React are never imported otherwise).
 */
import React, { useEffect, useState } from 'react';
import { Box, Text, render } from 'ink';
import type { RunningProxy } from '../proxy/index.js';
import type { StatsSnapshot } from '../proxy/stats.js';

interface Window {
  total: number;
  byClass: number[];
  byHost: Map<string, { n: number; ms: number }>;
}

interface View {
  rps: number;
  total: number;
  byClass: number[];
  hosts: { host: string; share: number; n: number; avgMs: number }[];
  cx: number;
}

function Dashboard({ next }: { next: () => Promise<View> }): React.JSX.Element {
  const [v, setV] = useState<View>({ rps: 0, total: 0, byClass: [0, 0, 0, 0, 0, 0], hosts: [], cx: 0 });
  useEffect(() => {
    const t = setInterval(() => void next().then(setV), 1000);
    return () => clearInterval(t);
  }, [next]);
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>meshctl run — live (Ctrl-C drains and stops)</Text>
      <Text>
        requests/s <Text color="cyan">{v.rps.toFixed(0)}</Text>   total {v.total}   active downstream connections {v.cx}
      </Text>
      <Text>
        2xx <Text color="green">{v.byClass[2]}</Text>  3xx {v.byClass[3]}  4xx <Text color="yellow">{v.byClass[4]}</Text>  5xx{' '}
        <Text color="red">{v.byClass[5]}</Text>  (last second)
      </Text>
      <Text bold>upstream endpoint        share     req/s   avg ms</Text>
      {v.hosts.map((h) => (
        <Text key={h.host}>
          {h.host.padEnd(24)} {(h.share * 100).toFixed(1).padStart(5)}%  {String(h.n).padStart(7)}  {h.avgMs.toFixed(2).padStart(7)}
        </Text>
      ))}
    </Box>
  );
}

export function startDashboard(proxy: RunningProxy, stats: () => Promise<StatsSnapshot>): () => void {
  let w: Window = { total: 0, byClass: [0, 0, 0, 0, 0, 0], byHost: new Map() };
  let total = 0;
  proxy.observe((status, host, ms) => {
    w.total++;
    total++;
    const cls = (status / 100) | 0;
    if (cls >= 0 && cls <= 5) w.byClass[cls]!++;
    if (host) {
      const e = w.byHost.get(host) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += ms;
      w.byHost.set(host, e);
    }
  });
  const next = async (): Promise<View> => {
    const cur = w;
    w = { total: 0, byClass: [0, 0, 0, 0, 0, 0], byHost: new Map() };
    const snap = await stats();
    let cx = 0;
    for (const [k, val] of Object.entries(snap.gauges)) if (k.startsWith('listener.') && k.endsWith('.downstream_cx_active')) cx += val;
    const hostTotal = [...cur.byHost.values()].reduce((s, e) => s + e.n, 0);
    return {
      rps: cur.total,
      total,
      byClass: cur.byClass,
      cx,
      hosts: [...cur.byHost.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([host, e]) => ({ host, n: e.n, share: hostTotal ? e.n / hostTotal : 0, avgMs: e.n ? e.ms / e.n : 0 })),
    };
  };
  const app = render(<Dashboard next={next} />, { stdout: process.stderr, patchConsole: false });
  return () => {
    proxy.observe(null);
    app.unmount();
  };
}
