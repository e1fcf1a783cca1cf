/** A tiny authoritative DNS server on 127.0.0.1 (UDP, dns-packet) whose answers a test can change at will. */
import dgram from 'node:dgram';
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
  close(): Promise<void>;
}

const SERVFAIL = 2;
const NXDOMAIN = 3;

export async function startDnsServer(): Promise<TestDnsServer> {
  const sock = dgram.createSocket('udp4');
  const state: TestDnsServer = {
    address: '127.0.0.1',
    port: 0,
    a: new Map(),
    v6: new Map(),
    mode: 'ok',
    delayMs: 0,
    queries: [],
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
  sock.on('message', (msg, rinfo) => {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    state.queries.push(`${question.type} ${question.name}`);
    if (state.mode === 'silent') return;
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
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | rcode,
      questions: q.questions,
      answers,
    });
    if (state.delayMs > 0) setTimeout(() => sock.send(reply, rinfo.port, rinfo.address), state.delayMs);
    else sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  (state as { port: number }).port = (sock.address() as AddressInfo).port;
  return state;
}
