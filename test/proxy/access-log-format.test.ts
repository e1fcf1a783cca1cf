/** Access-log format strings: what Envoy refuses (parseFormat), and the compiled text formatter's rules for unset
 * values, omit_empty_values, lengths and START_TIME conversions, on a hand-made request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFormat, FormatError } from '../../src/config/access-log-format.js';
import { compileTextFormat, UnsupportedOperator } from '../../src/proxy/access-log-formatter.js';
import type { AccessLogFacts } from '../../src/proxy/access-log.js';
import type { DownReq } from '../../src/proxy/downstream.js';

test('parseFormat: literal runs and commands; what Envoy refuses is a FormatError', () => {
  assert.deepEqual(parseFormat('a %REQ(X-A?X-B):5% b\n'), ['a ', { name: 'REQ', arg: 'X-A?X-B', maxLength: 5 }, ' b\n']);
  assert.deepEqual(parseFormat('%START_TIME(%Y %H)%'), [{ name: 'START_TIME', arg: '%Y %H', maxLength: undefined }]);
  for (const bad of ['%NOPE%', '100%', '%REQ%', '%REQ()%', '%PROTOCOL(x)%', '%DURATION:3%', '%REQ(a?b?c)%', '%req(x)%']) {
    assert.throws(() => parseFormat(bad), FormatError, bad);
  }
});

const START = Date.UTC(2024, 1, 29, 13, 4, 5, 678); // a leap day, 13:04:05.678 UTC

function facts(over: Partial<AccessLogFacts> = {}): AccessLogFacts {
  const req = { method: 'GET', url: '/p', httpVersion: '1.1', httpVersionMajor: 1, headers: { host: 'h.test', 'x-empty': '', 'x-long': 'abcdefgh' } } as unknown as DownReq;
  return {
    req, h2: false, status: 200, flags: 0, bytesSent: 3, bytesReceived: 0, serviceTimeMs: 1, upstreamHeaders: undefined,
    sentPath: undefined, upstreamHost: '', clusterName: undefined, clusterObservabilityName: undefined, routeName: undefined, responseHeaders: undefined,
    responseTrailers: null, details: '', healthCheck: false, requestDoneMs: 0, firstByteMs: -1, transportFailure: '', upstreamLocal: '',
    attempts: 1, socket: undefined, ...over,
  };
}

test('text formats: unset is "-", or nothing with omit_empty_values; lengths cut strings only', () => {
  const f = facts();
  assert.equal(compileTextFormat('%UPSTREAM_HOST%|%REQ(X-NONE)%|%REQ(X-LONG):3%|%RESPONSE_CODE%', false)(f, 12.9, START), '-|-|abc|200');
  assert.equal(compileTextFormat('%UPSTREAM_HOST%|%REQ(X-NONE)%|%DURATION%', true)(f, 12.9, START), '||12');
  assert.equal(compileTextFormat('%REQ(:AUTHORITY)% %REQ(HOST)% %REQ(:PATH)%', false)(f, 0, START), 'h.test h.test /p');
  assert.throws(() => compileTextFormat('%DOWNSTREAM_PEER_SUBJECT%', false), UnsupportedOperator);
  // A cluster with alt_stat_name: UPSTREAM_CLUSTER is that name, UPSTREAM_CLUSTER_RAW the cluster's own.
  const alt = facts({ clusterName: 'backend-v2', clusterObservabilityName: 'backend' });
  assert.equal(compileTextFormat('%UPSTREAM_CLUSTER% %UPSTREAM_CLUSTER_RAW%', false)(alt, 0, START), 'backend backend-v2');
});

test('START_TIME: ISO by default, strftime conversions in UTC, fractions and epoch seconds', () => {
  const fmt = (t: string): string => compileTextFormat(t, false)(facts(), 0, START);
  assert.equal(fmt('%START_TIME%'), '2024-02-29T13:04:05.678Z');
  assert.equal(fmt('%START_TIME(%Y-%m-%dT%H:%M:%E3SZ)%'), '2024-02-29T13:04:05.678Z');
  assert.equal(fmt('%START_TIME(%d/%b/%Y:%T %z)%'), '29/Feb/2024:13:04:05 +0000');
  assert.equal(fmt('%START_TIME(%s.%3f|%f|%1f)%'), '1709211845.678|678000000|6');
  assert.equal(fmt('%START_TIME(%j %a %A %B %I%p %%)%'), '060 Thu Thursday February 01PM %');
  // A start time with a fraction of a millisecond (taken from the monotonic clock) gives whole, zero-padded digits.
  assert.equal(compileTextFormat('%START_TIME(%S.%3f|%E3S)%', false)(facts(), 0, START - 600.5), '05.077|05.077');
});
