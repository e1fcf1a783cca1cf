import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDeadline, stopDeadline, type Deadline, type DeadlineList } from '../../src/proxy/deadlines.js';

class Rec implements Deadline {
  dlAt = 0;
  dlPrev: Deadline | null = null;
  dlNext: Deadline | null = null;
  dlList: DeadlineList | null = null;
  firedAt = -1;
  constructor(
    readonly startedAt: number,
    readonly onFire: (r: Rec) => void = () => undefined,
  ) {}
  deadlineFired(): void {
    this.firedAt = performance.now();
    this.onFire(this);
  }
}

test('a deadline fires once, no earlier than its duration, and not at all once stopped', async () => {
  const now = performance.now();
  const a = new Rec(now);
  const b = new Rec(now);
  const c = new Rec(now);
  startDeadline(a, 30, now);
  startDeadline(b, 30, now);
  startDeadline(c, 60, now);
  stopDeadline(b);
  stopDeadline(b); // twice is harmless
  await sleep(120);
  assert.ok(a.firedAt >= now + 30, `fired ${a.firedAt - now} ms after start`);
  assert.ok(c.firedAt >= now + 60, `fired ${c.firedAt - now} ms after start`);
  assert.equal(b.firedAt, -1);
  assert.equal(a.dlList, null);
});

test('entries of one duration started at different times each get their full duration; a restart replaces the deadline', async () => {
  const fired: string[] = [];
  const t0 = performance.now();
  const first = new Rec(t0, () => fired.push('first'));
  startDeadline(first, 40, t0);
  await sleep(20);
  const t1 = performance.now();
  const second = new Rec(t1, () => fired.push('second'));
  startDeadline(second, 40, t1);
  // Restarted: its deadline is now 40 ms from here, behind the second's.
  startDeadline(first, 40, performance.now() + 5);
  await sleep(100);
  assert.deepEqual(fired, ['second', 'first']);
  assert.ok(second.firedAt >= t1 + 40);
});

test('a deadline started by a firing one, in the same list, waits its own full duration', async () => {
  const t0 = performance.now();
  let chained: Rec | undefined;
  const a = new Rec(t0, () => {
    chained = new Rec(performance.now());
    startDeadline(chained, 25, chained.startedAt);
  });
  startDeadline(a, 25, t0);
  await sleep(100);
  assert.ok(chained !== undefined && chained.firedAt >= chained.startedAt + 25, 'the chained deadline fired in time, not early');
});
