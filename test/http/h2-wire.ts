/**
 * Just enough HTTP/2 framing (RFC 9113 §4, §6) for tests and benches of HPACK against node:http2: a raw TCP server
 * that reads a client's preface and frames, hands each complete header block (HEADERS + CONTINUATION, padding and
 * priority fields removed) to the test, and writes the test's header blocks back in hand-built HEADERS frames. It
 * does no HTTP/2 beyond that: no flow control (the clients send no bodies), no stream state.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

import { H2_PREFACE as PREFACE, frame } from '../hardening/http-helpers.js';

export { PREFACE, frame };

export const FRAME = { DATA: 0, HEADERS: 1, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 } as const;
export const FLAG = { ACK: 0x1, END_STREAM: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const SETTING = { HEADER_TABLE_SIZE: 0x1 } as const;
/** SETTINGS_MAX_FRAME_SIZE's initial value: header blocks longer than this go on in CONTINUATION frames. */
const MAX_FRAME = 16384;


export function settingsFrame(params: readonly (readonly [number, number])[], ack = false): Buffer {
  const payload = Buffer.alloc(6 * params.length);
  params.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FRAME.SETTINGS, ack ? FLAG.ACK : 0, 0, payload);
}

/** A header block as HEADERS (+ CONTINUATION) frames; `endStream` ends the stream with it. */
export function headersFrames(stream: number, block: Buffer, endStream: boolean): Buffer {
  const frames: Buffer[] = [];
  for (let at = 0, first = true; first || at < block.length; first = false) {
    const piece = block.subarray(at, at + MAX_FRAME);
    at += piece.length;
    const last = at >= block.length;
    const flags = (last ? FLAG.END_HEADERS : 0) | (first && endStream ? FLAG.END_STREAM : 0);
    frames.push(frame(first ? FRAME.HEADERS : FRAME.CONTINUATION, flags, stream, piece));
  }
  return Buffer.concat(frames);
}

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** Splits a byte stream into frames (after the preface, when `preface` is set). */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  private needPreface: boolean;

  constructor(preface: boolean) {
    this.needPreface = preface;
  }

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Frame[] = [];
    if (this.needPreface) {
      if (this.pending.length < PREFACE.length) return out;
      if (!this.pending.subarray(0, PREFACE.length).equals(PREFACE)) throw new Error('bad HTTP/2 client preface');
      this.pending = this.pending.subarray(PREFACE.length);
      this.needPreface = false;
    }
    while (this.pending.length >= 9) {
      const len = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + len) break;
      out.push({
        type: this.pending[3]!,
        flags: this.pending[4]!,
        stream: this.pending.readUInt32BE(5) & 0x7fffffff,
        payload: this.pending.subarray(9, 9 + len),
      });
      this.pending = this.pending.subarray(9 + len);
    }
    return out;
  }
}

/** A HEADERS frame's header block fragment: its payload without padding and priority fields. */
export function headersFragment(f: Frame): Buffer {
  let p = f.payload;
  let pad = 0;
  if (f.flags & FLAG.PADDED) {
    pad = p[0]!;
    p = p.subarray(1);
  }
  if (f.flags & FLAG.PRIORITY) p = p.subarray(5);
  return p.subarray(0, p.length - pad);
}

export interface RawConnection {
  socket: Socket;
  /** Writes a header block on `stream` as HEADERS (+ CONTINUATION) frames. */
  sendHeaders(stream: number, block: Buffer, endStream: boolean): void;
  /** Sends a SETTINGS frame. */
  sendSettings(params: readonly (readonly [number, number])[]): void;
}

export interface RawHandlers {
  /** Our SETTINGS, sent first (before the client's preface is read). */
  settings?: readonly (readonly [number, number])[];
  /** A complete header block arrived on `stream`. */
  onBlock(conn: RawConnection, stream: number, block: Buffer): void;
  /** The client's SETTINGS (already ACKed). */
  onPeerSettings?(conn: RawConnection, params: Map<number, number>): void;
  /** The client ACKed one of our SETTINGS frames. */
  onSettingsAck?(conn: RawConnection): void;
  onError?(err: Error): void;
}

/**
 * A raw HTTP/2 server on 127.0.0.1 (ephemeral port). Each connection: our SETTINGS go out at once; the client's
 * SETTINGS are ACKed, PINGs answered; header blocks are reassembled and handed to `onBlock`.
 */
export async function startRawServer(h: RawHandlers): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const conn: RawConnection = {
      socket,
      sendHeaders: (stream, block, endStream) => socket.write(headersFrames(stream, block, endStream)),
      sendSettings: (params) => socket.write(settingsFrame(params)),
    };
    conn.sendSettings(h.settings ?? []);
    const reader = new FrameReader(true);
    let open: { stream: number; pieces: Buffer[] } | null = null;
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of reader.push(chunk)) {
          if (open !== null && f.type !== FRAME.CONTINUATION) throw new Error('frame inside a header block');
          if (f.type === FRAME.SETTINGS) {
            if (f.flags & FLAG.ACK) {
              h.onSettingsAck?.(conn);
              continue;
            }
            const params = new Map<number, number>();
            for (let i = 0; i + 6 <= f.payload.length; i += 6) params.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
            socket.write(settingsFrame([], true));
            h.onPeerSettings?.(conn, params);
          } else if (f.type === FRAME.GOAWAY) {
            // The client gave up on the connection (e.g. COMPRESSION_ERROR): report it, and close, as a server would.
            const code = f.payload.length >= 8 ? f.payload.readUInt32BE(4) : -1;
            if (code !== 0) throw new Error(`client sent GOAWAY, error code ${code}: ${f.payload.subarray(8).toString('latin1')}`);
            socket.end();
          } else if (f.type === FRAME.PING && !(f.flags & FLAG.ACK)) {
            socket.write(frame(FRAME.PING, FLAG.ACK, 0, f.payload));
          } else if (f.type === FRAME.HEADERS || f.type === FRAME.CONTINUATION) {
            const piece = f.type === FRAME.HEADERS ? headersFragment(f) : f.payload;
            if (f.type === FRAME.HEADERS) open = { stream: f.stream, pieces: [piece] };
            else if (open === null || open.stream !== f.stream) throw new Error('CONTINUATION without its HEADERS');
            else open.pieces.push(piece);
            if (f.flags & FLAG.END_HEADERS) {
              const done = open;
              open = null;
              h.onBlock(conn, done.stream, Buffer.concat(done.pieces));
            }
          }
        }
      } catch (err) {
        h.onError?.(err as Error);
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
