/** `meshctl run` refuses what it cannot serve (a UDP / HTTP/3 listener) with the config's file:line, instead of
 * silently serving TCP HTTP/1.1 in its place. Through the real binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { writeTemp } from './helpers.js';

const config = (socketExtra: string, codec: string): string => `
static_resources:
  listeners:
    - name: quic
      address: { socket_address: { address: 127.0.0.1, port_value: 0${socketExtra} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: quic
                codec_type: ${codec}
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }]
`;

test('an HTTP/3 listener on UDP is refused at start-up with file:line, and nothing is served', async () => {
  const file = writeTemp('h3.yaml', config(', protocol: UDP', 'HTTP3'));
  const r = await runCli(['run', file, '--admin-address', '127.0.0.1:0', '--no-watch'], { timeoutMs: 20_000 });
  // The run-fate table refuses it before anything binds (src/config/run-fate): a config error, with file:line.
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error\[run-refused\]: meshctl run does not support `protocol: UDP`: a UDP listener \(HTTP\/3 over QUIC\) is not served/);
  assert.match(r.stderr, new RegExp(`--> ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+`));
  assert.doesNotMatch(r.stderr, /listener quic on http/);
});

test('a UDP listener with any codec is refused too', async () => {
  const file = writeTemp('udp.yaml', config(', protocol: UDP', 'AUTO'));
  const r = await runCli(['run', file, '--admin-address', '127.0.0.1:0', '--no-watch'], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error\[run-refused\]: meshctl run does not support `protocol: UDP`/);
});
