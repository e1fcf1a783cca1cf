/**
 * HPACK's static Huffman code (RFC 7541 §5.2, Appendix B). Appendix B's code is canonical: within one length,
 * codes rise with the symbol, and each length's first code follows the last code of the shorter length. So the
 * code lengths alone define it, and the codes are derived here once at module load (the tests check a few of them
 * against Appendix B, the Appendix C strings, and nghttp2 through node:http2 for every octet).
 *
 * Decoding walks the code tree eight bits at a time: one table entry per (tree node, input octet) says which node
 * the walk ends at, which symbols (at most two: no code is shorter than five bits) it completed on the way, and
 * whether it passed through EOS. The table (256 nodes × 256 octets, 256 KiB) is built once, at module load.
 */

/** Code length of symbols 0..255 and of EOS (256), in bits: RFC 7541 Appendix B, column "len". */
// prettier-ignore
const LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //         0x20 ' ' .. '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //              0x30 '0' .. '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                0x40 '@' .. 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //             0x50 'P' .. '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                0x60 '`' .. 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //            0x70 'p' .. DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0
  30, //                                                             EOS
];

const EOS = 256;

/** The code of each symbol (right-aligned in its length), derived canonically from LENGTHS. */
export const HUFFMAN_CODES = new Uint32Array(257);
/** The length of each symbol's code, in bits. */
export const HUFFMAN_LENGTHS = Uint8Array.from(LENGTHS);

{
  const order = [...Array(257).keys()].sort((a, b) => LENGTHS[a]! - LENGTHS[b]! || a - b);
  let code = 0;
  let len = LENGTHS[order[0]!]!;
  for (const sym of order) {
    const l = LENGTHS[sym]!;
    code *= 2 ** (l - len); // move to the next length: append zeros
    len = l;
    HUFFMAN_CODES[sym] = code;
    code++;
  }
  // A complete prefix code ends with the all-ones code of its longest length: EOS, 30 ones.
  if (HUFFMAN_CODES[EOS] !== 0x3fffffff) throw new Error('HPACK Huffman table is not the canonical code of RFC 7541');
}

// --- decoding -------------------------------------------------------------------------------------------------

/** Entry layout of DECODE: next node (bits 0–7), first symbol (8–15), second symbol (16–23), count (24–25). */
const SYMBOLS_SHIFT = 24;
/** The walk reached EOS: a decoding error (RFC 7541 §5.2). */
const FAILED = 1 << 26;

/**
 * Tree nodes as children arrays: node n's child for bit b is CHILD[2n + b]; a value ≥ 0x100 is the leaf of symbol
 * value − 0x100. There are 256 internal nodes for 257 leaves; node 0 is the root.
 */
const CHILD = new Uint16Array(512);
/**
 * Nodes where a string may end: the bits since the last complete symbol are a prefix of EOS (all ones) of at most
 * seven bits (RFC 7541 §5.2: longer padding, or padding not of ones, is an error). The root is one (no padding).
 */
const ACCEPTS = new Uint8Array(256);

/** DECODE[node << 8 | octet], see SYMBOLS_SHIFT. */
const DECODE = new Uint32Array(256 * 256);

{
  let nodes = 1;
  ACCEPTS[0] = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const len = LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      let next = CHILD[2 * node + bit]!;
      if (next === 0) {
        next = nodes++;
        CHILD[2 * node + bit] = next;
        const depth = len - i;
        // All ones so far (code >> i is 2^depth − 1) and short enough to be padding.
        if (depth <= 7 && Math.floor(code / 2 ** i) === 2 ** depth - 1) ACCEPTS[next] = 1;
      }
      node = next;
    }
    CHILD[2 * node + (code & 1)] = 0x100 + sym;
  }
  if (nodes !== 256) throw new Error(`HPACK Huffman tree has ${nodes} internal nodes, expected 256`);

  // First four bits at a time (a nibble completes at most one symbol: none is shorter than five bits), then each
  // octet as its two nibbles: 16 K tree steps and 64 K compositions instead of 512 K steps, at module load.
  const NIBBLE = new Int32Array(256 * 16); // next node | symbol << 8 | 1 << 16 (a symbol) | FAILED
  for (let start = 0; start < 256; start++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = start;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const next = CHILD[2 * node + ((nibble >> i) & 1)]!;
        if (next < 0x100) {
          node = next;
          continue;
        }
        if (next - 0x100 === EOS) {
          entry |= FAILED;
          break;
        }
        entry |= ((next - 0x100) << 8) | (1 << 16);
        node = 0;
      }
      NIBBLE[(start << 4) | nibble] = entry | node;
    }
  }
  for (let start = 0; start < 256; start++) {
    for (let octet = 0; octet < 256; octet++) {
      const a = NIBBLE[(start << 4) | (octet >> 4)]!;
      if ((a & FAILED) !== 0) {
        DECODE[(start << 8) | octet] = FAILED;
        continue;
      }
      const b = NIBBLE[((a & 0xff) << 4) | (octet & 15)]!;
      let entry = b & (0xff | FAILED);
      let count = 0;
      if ((a & (1 << 16)) !== 0) entry |= ((a >> 8) & 0xff) << (8 + 8 * count++);
      if ((b & (1 << 16)) !== 0) entry |= ((b >> 8) & 0xff) << (8 + 8 * count++);
      DECODE[(start << 8) | octet] = (entry | (count << SYMBOLS_SHIFT)) >>> 0;
    }
  }
}

/** Scratch for decoded octets; grown (never shrunk) when a longer string arrives. */
let scratch = Buffer.allocUnsafeSlow(256);

/**
 * Decodes `src[start, end)` as a Huffman-coded string literal into a latin1 string (one char per octet). Returns
 * null when it is not a valid encoding: it holds EOS, or its padding is more than seven bits or not all ones.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string | null {
  // Five bits is the shortest code, so n octets hold at most 8n/5 symbols.
  const most = ((end - start) * 8) / 5 + 1;
  if (most > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(most, scratch.length * 2) | 0);
  const out = scratch;
  let n = 0;
  let node = 0;
  for (let i = start; i < end; i++) {
    const e = DECODE[(node << 8) | src[i]!]!;
    if ((e & FAILED) !== 0) return null;
    const count = e >>> SYMBOLS_SHIFT;
    if (count !== 0) {
      out[n++] = (e >>> 8) & 0xff;
      if (count === 2) out[n++] = (e >>> 16) & 0xff;
    }
    node = e & 0xff;
  }
  if (ACCEPTS[node] === 0) return null;
  return out.latin1Slice(0, n);
}

// --- encoding -------------------------------------------------------------------------------------------------

/** The length in octets of `s` (latin1) Huffman-coded, padding included. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes `s` (latin1) Huffman-coded into `dst` at `at`, padded with ones to an octet; returns the offset after it.
 * The caller sized `dst` with huffmanLength().
 */
export function huffmanEncode(s: string, dst: Uint8Array, at: number): number {
  // `acc` holds `bits` pending bits (fewer than 8 between symbols); a code of up to 24 bits joins it in one step,
  // longer ones (control characters and some octets ≥ 0x80) in two, so acc never exceeds 31 bits.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    let code = HUFFMAN_CODES[sym]!;
    let len = HUFFMAN_LENGTHS[sym]!;
    if (len > 24) {
      const high = len - 16;
      acc = (acc << high) | (code >>> 16);
      bits += high;
      while (bits >= 8) {
        bits -= 8;
        dst[at++] = acc >>> bits;
      }
      acc &= (1 << bits) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      dst[at++] = acc >>> bits;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) dst[at++] = (acc << (8 - bits)) | (0xff >>> bits);
  return at;
}

declare global {
  interface Buffer {
    /** Node's latin1 decoder behind toString('latin1', start, end), without its argument checks. */
    latin1Slice(start: number, end: number): string;
    /** Node's latin1 encoder behind write(s, offset, 'latin1'); returns the octets written. */
    latin1Write(s: string, offset: number, length?: number): number;
  }
}
