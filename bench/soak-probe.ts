/**
 * Loaded into the `meshctl run` process by bench/soak.ts (`node --import dist/bench/soak-probe.js bin/meshctl run …`):
 * every second, one JSON line with the event-loop delay of that second (perf_hooks histogram, ms) appended to the
 * file named by MESHCTL_SOAK_PROBE. meshctl itself does not expose event-loop delay yet.
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const out = process.env.MESHCTL_SOAK_PROBE;
if (out) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const timer = setInterval(() => {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    appendFileSync(out, JSON.stringify({ t: Date.now(), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) }) + '\n');
    h.reset();
  }, 1000);
  timer.unref();
}
