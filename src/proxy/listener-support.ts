/**
 * What `meshctl run` can serve of a listener, checked before anything binds (at start and on reload): HTTP/3 needs
 * QUIC over UDP, which meshctl does not implement. Such a listener is refused with the place in the config, rather
 * than served as something else.
 */
import type { Bootstrap } from '../config/model.js';
import { spanOf } from '../config/model.js';
import { connectionManager } from '../config/connection-manager.js';
import { UsageError } from '../config/usage-error.js';

function where(node: object | undefined, field: string): string {
  const s = spanOf(node, field);
  return s === undefined ? '' : `${s.file}:${s.line}:${s.column}: `;
}

/**
 * @throws UsageError for a UDP listener (the only kind an HTTP/3 connection manager can sit on: validate
 * refuses codec HTTP3 on TCP).
 */
export function preflightListeners(config: Bootstrap): void {
  for (const l of config.static_resources?.listeners ?? []) {
    const sa = l.address?.socket_address;
    if (sa?.protocol !== 'UDP') continue;
    const codec = connectionManager(l)?.codec_type;
    throw new UsageError(
      `${where(sa, 'protocol')}listener ${l.name ?? ''}: a UDP listener${codec === 'HTTP3' ? ' (codec HTTP3, QUIC)' : ''} is not supported by meshctl run: ` +
        'it serves HTTP/1.1 and HTTP/2 over TCP only',
    );
  }
}
