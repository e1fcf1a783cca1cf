/**
 * A DNS query over TCP (RFC 1035 §4.2.2: each message prefixed by its two-byte length), for clusters whose resolver
 * says `use_tcp_for_dns_lookups` (c-ares' ARES_FLAG_USEVC). node's Resolver has no such switch, so this sends the one
 * A or AAAA question itself and reads the answer records. Errors carry the codes node's resolver uses (ENODATA,
 * ENOTFOUND, ESERVFAIL, EREFUSED, ETIMEOUT, ECONNREFUSED), so the caller treats both transports alike.
 */
import net from 'node:net';
import { randomInt } from 'node:crypto';

interface TcpAnswer {
  readonly address: string;
  readonly ttl: number;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;

function dnsError(code: string, message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = code;
  return e;
}

/** `ip`, `ip:port` or `[ip6]:port` → host and port (53 by default). */
function parseServer(server: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (v6 !== null) return { host: v6[1]!, port: v6[2] !== undefined ? Number(v6[2]) : 53 };
  if (net.isIPv6(server)) return { host: server, port: 53 };
  const i = server.lastIndexOf(':');
  if (i > 0) return { host: server.slice(0, i), port: Number(server.slice(i + 1)) };
  return { host: server, port: 53 };
}

function encodeQuery(id: number, name: string, type: number): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4); // one question
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  const msg = Buffer.concat([header, qname, tail]);
  const framed = Buffer.alloc(2 + msg.length);
  framed.writeUInt16BE(msg.length, 0);
  msg.copy(framed, 2);
  return framed;
}

/** The offset just past a (possibly compressed) name at `at`. */
function skipName(buf: Buffer, at: number): number {
  let i = at;
  for (let guard = 0; guard < 128; guard++) {
    const len = buf[i];
    if (len === undefined) throw dnsError('EBADRESP', 'truncated name');
    if (len === 0) return i + 1;
    if ((len & 0xc0) === 0xc0) return i + 2;
    i += 1 + len;
  }
  throw dnsError('EBADRESP', 'name too long');
}

function decodeAnswer(buf: Buffer, id: number, type: number): TcpAnswer[] {
  if (buf.length < 12 || buf.readUInt16BE(0) !== id) throw dnsError('EBADRESP', 'malformed or mismatched DNS response');
  const rcode = buf.readUInt16BE(2) & 0x0f;
  if (rcode === 3) throw dnsError('ENOTFOUND', 'NXDOMAIN');
  if (rcode === 2) throw dnsError('ESERVFAIL', 'SERVFAIL');
  if (rcode === 5) throw dnsError('EREFUSED', 'REFUSED');
  if (rcode !== 0) throw dnsError('EBADRESP', `DNS rcode ${rcode}`);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let i = 12;
  for (let q = 0; q < qd; q++) i = skipName(buf, i) + 4;
  const out: TcpAnswer[] = [];
  for (let a = 0; a < an; a++) {
    i = skipName(buf, i);
    if (i + 10 > buf.length) throw dnsError('EBADRESP', 'truncated record');
    const rtype = buf.readUInt16BE(i);
    const ttl = buf.readUInt32BE(i + 4);
    const len = buf.readUInt16BE(i + 8);
    const data = buf.subarray(i + 10, i + 10 + len);
    i += 10 + len;
    if (rtype !== type) continue; // a CNAME on the way
    if (type === TYPE_A && len === 4) out.push({ address: [...data].join('.'), ttl });
    else if (type === TYPE_AAAA && len === 16) {
      const groups: string[] = [];
      for (let g = 0; g < 16; g += 2) groups.push(data.readUInt16BE(g).toString(16));
      out.push({ address: compressV6(groups.join(':')), ttl });
    }
  }
  if (out.length === 0) throw dnsError('ENODATA', 'no records');
  return out;
}

/** An IPv6 address in its canonical short form (node's URL parser normalises it). */
function compressV6(full: string): string {
  return new URL(`http://[${full}]/`).hostname.slice(1, -1);
}

/** One A (`family` 4) or AAAA (6) query to `server` over TCP, answered within `timeoutMs`. */
export function queryOverTcp(server: string, name: string, family: 4 | 6, timeoutMs: number): Promise<TcpAnswer[]> {
  const { host, port } = parseServer(server);
  const type = family === 4 ? TYPE_A : TYPE_AAAA;
  const id = randomInt(0, 0x10000);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf: Buffer = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | null, v?: TcpAnswer[]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err !== null) reject(err);
      else resolve(v!);
    };
    const timer = setTimeout(() => done(dnsError('ETIMEOUT', `DNS query to ${server} over TCP timed out`)), timeoutMs);
    sock.once('connect', () => sock.write(encodeQuery(id, name, type)));
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      try {
        done(null, decodeAnswer(buf.subarray(2, 2 + len), id, type));
      } catch (err) {
        done(err as Error);
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => done(dnsError(err.code ?? 'ECONNREFUSED', err.message)));
    sock.on('end', () => done(dnsError('EBADRESP', 'connection closed before a complete answer')));
  });
}
