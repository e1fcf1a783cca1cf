/**
 * The floor under any proxy written for node, for bench/proxy.ts: a byte relay pairing each client connection with one
 * upstream connection and copying bytes both ways, with no HTTP work at all (no parsing, routing or headers). It makes
 * the same system calls per request as an HTTP proxy does (one read and one write each way), so its requests/s are
 * the most node's sockets give on this machine.
 *
 *   node dist/bench/node-relay.js LISTEN_PORT UPSTREAM_PORT
 */
import net from 'node:net';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
if (!Number.isInteger(listenPort) || !Number.isInteger(upstreamPort)) {
  console.error('usage: node dist/bench/node-relay.js LISTEN_PORT UPSTREAM_PORT');
  process.exit(2);
}
const server = net.createServer({ noDelay: true }, (client) => {
  const up = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
  client.on('data', (d: Buffer) => up.write(d));
  up.on('data', (d: Buffer) => client.write(d));
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
  client.on('error', () => undefined);
  up.on('error', () => undefined);
});
server.listen(listenPort, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
