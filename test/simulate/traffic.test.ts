import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReplayLine } from '../../src/simulate/traffic.js';
import { parseLatency, parseTime } from '../../src/simulate/latency.js';
import { OptionError, parseAddress, parseHeaders, parseLatencyFlags, parseTimeline } from '../../src/simulate/options.js';

test('replay: JSON lines', () => {
  const r = parseReplayLine('{"method":"post","host":"api.example.com","path":"/v1?x=1","headers":{"X-User":"u1"},"source_ip":"1.2.3.4","listener":"web"}');
  assert.deepEqual(r, { listener: 'web', method: 'POST', authority: 'api.example.com', path: '/v1?x=1', headers: { 'x-user': 'u1' }, sourceIp: '1.2.3.4' });
  assert.equal(parseReplayLine('   '), undefined);
  assert.equal(parseReplayLine('# comment'), undefined);
  assert.match(String(parseReplayLine('{"path":')), /invalid JSON/);
  assert.match(String(parseReplayLine('{"headers":{"a":1}}')), /must be a string/);
});

test('replay: Envoy default access-log format', () => {
  const line =
    '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"';
  assert.deepEqual(parseReplayLine(line), {
    listener: undefined,
    method: 'POST',
    authority: 'locations',
    path: '/api/v1/locations',
    headers: { 'user-agent': 'nsq2http', 'x-request-id': 'cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2' },
    sourceIp: '10.0.35.28',
  });
  assert.match(String(parseReplayLine('[x] "GARBAGE"')), /METHOD PATH/);
  assert.match(String(parseReplayLine('GET / HTTP/1.1')), /neither/);
});

test('latency and time parsing', () => {
  assert.equal(parseTime('5ms'), 5);
  assert.equal(parseTime('1.5s'), 1500);
  assert.equal(parseTime('2m'), 120000);
  assert.equal(parseTime('250us'), 0.25);
  assert.equal(parseTime('x'), undefined);
  assert.deepEqual(parseLatency('const:5ms'), { kind: 'const', ms: 5 });
  assert.deepEqual(parseLatency('exp:10ms'), { kind: 'exp', meanMs: 10 });
  assert.deepEqual(parseLatency('normal:20ms,5ms'), { kind: 'normal', meanMs: 20, sdMs: 5 });
  assert.match(String(parseLatency('pareto:1ms')), /unknown latency distribution/);
  assert.match(String(parseLatency('normal:20ms')), /mean and standard deviation/);
});

test('flag parsing: addresses, headers, latency, timeline', () => {
  assert.equal(parseAddress('10.0.0.1:080', '--x'), '10.0.0.1:80');
  assert.equal(parseAddress('[::1]:80', '--x'), '[::1]:80');
  assert.throws(() => parseAddress('10.0.0.1', '--unhealthy'), (e: Error) => e instanceof OptionError && /--unhealthy: expected HOST:PORT/.test(e.message));
  assert.deepEqual([...parseHeaders(['X-User: a', 'x-user:b', 'cookie:sid=1'])], [['x-user', ['a', 'b']], ['cookie', ['sid=1']]]);
  assert.deepEqual([...parseLatencyFlags(['10.0.0.1:80=exp:10ms', '*=const:1ms'])], [
    ['10.0.0.1:80', { kind: 'exp', meanMs: 10 }],
    ['*', { kind: 'const', ms: 1 }],
  ]);
  assert.deepEqual(parseTimeline(['10s:down=10.0.0.1:80', '500ms:up=[::1]:80']), [
    { atMs: 10000, action: 'down', address: '10.0.0.1:80' },
    { atMs: 500, action: 'up', address: '[::1]:80' },
  ]);
  assert.throws(() => parseTimeline(['10s:off=10.0.0.1:80']), /--at: expected/);
});
