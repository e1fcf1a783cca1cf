/** The local rate limit's token bucket on a hand-driven clock: starts full, fills by whole intervals, caps at max. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/time/timers.js';
import { TokenBucket } from '../../src/proxy/filters/token-bucket.js';

test('token bucket: max_tokens at start, tokens_per_fill per whole fill_interval, never above max_tokens', () => {
  const clock = new ManualClock(1000);
  const b = new TokenBucket(5, 2, 1000, clock);
  for (let i = 0; i < 5; i++) assert.equal(b.consume(), true);
  assert.equal(b.consume(), false);
  clock.advance(999);
  assert.equal(b.consume(), false, 'no fill before the interval is over');
  assert.equal(b.msToNextFill(), 1);
  clock.advance(1);
  assert.equal(b.remaining(), 2);
  assert.equal(b.msToNextFill(), 1000);
  clock.advance(2500);
  assert.equal(b.remaining(), 5, 'two more fills (4 tokens) capped at 5');
  assert.equal(b.msToNextFill(), 500, 'the half interval already run counts towards the next fill');
  for (let i = 0; i < 5; i++) assert.equal(b.consume(), true);
  assert.equal(b.consume(), false);
});
