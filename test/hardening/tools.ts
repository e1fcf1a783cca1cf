/**
 * Real tools as judges: find a binary, or install its Debian package when we are root and apt-get works, or say
 * why not so the test can skip with that reason. Never fails for lack of a tool.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function which(bin: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p !== '' ? p : undefined;
}

let aptUpdated = false;

/** The path of `bin`, installing `pkg` with apt-get if needed and possible; otherwise the reason it is missing. */
export function ensureTool(bin: string, pkg: string): { path: string } | { skip: string } {
  const found = which(bin);
  if (found) return { path: found };
  if (process.env.MESHCTL_NO_APT) return { skip: `${bin} not found and MESHCTL_NO_APT is set` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { skip: `${bin} not found (Debian package ${pkg}) and not root to install it` };
  if (!which('apt-get')) return { skip: `${bin} not found and no apt-get to install ${pkg}` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    const u = spawnSync('apt-get', ['update', '-qq'], { env, timeout: 120_000, encoding: 'utf8' });
    aptUpdated = u.status === 0;
  }
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { env, timeout: 240_000, encoding: 'utf8' });
  const now = which(bin);
  if (now) return { path: now };
  return { skip: `${bin} not found; apt-get install ${pkg} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A self-signed certificate for 127.0.0.1/localhost made with openssl, or undefined when openssl is missing. */
export function selfSigned(): { dir: string; cert: string; key: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-hardening-tls-'));
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { stdio: 'ignore', timeout: 30_000 },
  );
  if (r.status !== 0) return undefined;
  return { dir, cert, key };
}

export function writeIn(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Envoy v3 YAML: a TLS listener (h2 + http/1.1 by ALPN) and a cleartext AUTO listener, both to one upstream. */
export function tlsConfigYaml(upstreamPort: number, cert: string, key: string, extra = ''): string {
  const hcm = (prefix: string): string => `            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ${prefix}
                codec_type: AUTO
                route_config:
                  name: ${prefix}_routes
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: echo }`;
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
${extra}static_resources:
  listeners:
    - name: tls
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              common_tls_context:
                alpn_protocols: [h2, http/1.1]
                tls_certificates:
                  - certificate_chain: { filename: ${cert} }
                    private_key: { filename: ${key} }
          filters:
${hcm('tls')}
    - name: plain
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
${hcm('plain')}
  clusters:
    - name: echo
      type: STATIC
      connect_timeout: 1s
      load_assignment:
        cluster_name: echo
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`;
}
