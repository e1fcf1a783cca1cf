/** A tiny authoritative DNS server on 127.0.0.1 (UDP, and TCP on the same port; dns-packet) whose answers a test can
 * change at will. */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { AddressInfo } from 'node:net';

export interface Record {
  readonly address: string;
  readonly ttl?: number;
}

export interface TestDnsServer {
  readonly address: string;
  readonly port: number;
  /** name → A records (AAAA records under `v6`); a name absent from both gets NXDOMAIN. */
  readonly a: Map<string, Record[]>;
  readonly v6: Map<string, Record[]>;
  /** 'ok' answers; 'servfail' answers SERVFAIL; 'silent' drops queries. */
  mode: 'ok' | 'servfail' | 'silent';
  /** Answers wait this long (a slow nameserver). */
  delayMs: number;
  /** Every question received, as `TYPE name`. */
  readonly queries: string[];
  /** The questions that came over TCP. */
  readonly tcpQueries: string[];
  close(): Promise<void>;
}

const SERVFAIL = 2;
const NXDOMAIN = 3;

export async function startDnsServer(): Promise<TestDnsServer> {
  let sock = dgram.createSocket('udp4');
  const conns = new Set<net.Socket>();
  const state: TestDnsServer = {
    address: '127.0.0.1',
    port: 0,
    a: new Map(),
    v6: new Map(),
    mode: 'ok',
    delayMs: 0,
    queries: [],
    tcpQueries: [],
    close: () => {
      for (const c of conns) c.destroy();
      return Promise.all([new Promise<void>((r) => sock.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]).then(() => undefined);
    },
  };
  /** The reply to one query message, or null for none (undecodable, or the server is silent). */
  const answer = (msg: Buffer, overTcp: boolean): Buffer | null => {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    const question = q.questions?.[0];
    if (!question) return null;
    state.queries.push(`${question.type} ${question.name}`);
    if (overTcp) state.tcpQueries.push(`${question.type} ${question.name}`);
    if (state.mode === 'silent') return null;
    const known = state.a.has(question.name) || state.v6.has(question.name);
    let rcode = 0;
    let answers: dnsPacket.Answer[] = [];
    if (state.mode === 'servfail') rcode = SERVFAIL;
    else if (!known) rcode = NXDOMAIN;
    else if (question.type === 'A') {
      answers = (state.a.get(question.name) ?? []).map((r) => ({ type: 'A', name: question.name, ttl: r.ttl ?? 60, data: r.address }));
    } else if (question.type === 'AAAA') {
      answers = (state.v6.get(question.name) ?? []).map((r) => ({ type: 'AAAA', name: question.name, ttl: r.ttl ?? 60, data: r.address }));
    }
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | rcode,
      questions: q.questions,
      answers,
    });
  };
  const later = (fn: () => void): void => {
    if (state.delayMs > 0) setTimeout(fn, state.delayMs);
    else fn();
  };
  const onUdp = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const reply = answer(msg, false);
    if (reply !== null) later(() => sock.send(reply, rinfo.port, rinfo.address));
  };
  // TCP: messages framed by a two-byte length (RFC 1035 §4.2.2).
  const tcp = net.createServer((conn) => {
    conns.add(conn);
    conn.once('close', () => conns.delete(conn));
    let buf = Buffer.alloc(0);
    conn.on('error', () => conn.destroy());
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const reply = answer(buf.subarray(2, 2 + len), true);
        buf = buf.subarray(2 + len);
        if (reply === null) continue;
        const framed = Buffer.alloc(2 + reply.length);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        later(() => conn.write(framed));
      }
    });
  });
  // UDP on an ephemeral port, then TCP on the same number: another process (a parallel test) may hold that TCP port,
  // so a taken one means a new pair, a bounded number of times.
  for (let attempt = 1; ; attempt++) {
    sock.on('message', onUdp);
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    (state as { port: number }).port = (sock.address() as AddressInfo).port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(state.port, '127.0.0.1', () => {
          tcp.removeListener('error', reject);
          resolve();
        });
      });
      return state;
    } catch (err) {
      await new Promise<void>((r) => sock.close(() => r()));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 20) throw err;
      sock = dgram.createSocket('udp4');
    }
  }
}
