/**
 * x-request-id values as Envoy's default request-id extension makes them (UUIDRequestIdConfig: a random UUID version
 * 4, RFC 9562 §5.4, lower-case hex in the 8-4-4-4-12 form), made in batches: the randomness for 128 ids is drawn at
 * once from the CSPRNG (crypto.randomFillSync), rendered into one ASCII buffer by a byte-to-hex table and made one
 * string, and each request takes its id as a slice of it (no native call per id). node's randomUUID batches its randomness too, but
 * builds every id from 20 concatenated pieces, which the header check and the socket write then walk piece by piece.
 */
import { randomFillSync } from 'node:crypto';

const IDS = 128;
const ID_LEN = 36;
const random = Buffer.alloc(IDS * 16);
const ascii = Buffer.alloc(IDS * ID_LEN);
/** The batch as one string (one native call per batch; a call per id would cost ≈ 1k instructions each). */
let batch = '';
/** The next unused id in `batch`; IDS when a new batch is needed. */
let next = IDS;

/** Two ASCII hex digits per byte value, as one 16-bit code: high digit in the low byte (written first). */
const HEX_PAIRS = (() => {
  const digits = '0123456789abcdef';
  const t = new Uint16Array(256);
  for (let b = 0; b < 256; b++) t[b] = digits.charCodeAt(b >> 4) | (digits.charCodeAt(b & 15) << 8);
  return t;
})();

/** Offsets in the 36-character form where each of the 16 bytes' two digits go (dashes at 8, 13, 18, 23). */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

function refill(): void {
  randomFillSync(random);
  for (let id = 0; id < IDS; id++) {
    const r = id * 16;
    // Version 4 in the high nibble of byte 6, variant 10 in the two high bits of byte 8 (RFC 9562 §5.4).
    random[r + 6] = (random[r + 6]! & 0x0f) | 0x40;
    random[r + 8] = (random[r + 8]! & 0x3f) | 0x80;
    const a = id * ID_LEN;
    for (let k = 0; k < 16; k++) {
      const pair = HEX_PAIRS[random[r + k]!]!;
      const at = a + AT[k]!;
      ascii[at] = pair & 0xff;
      ascii[at + 1] = pair >> 8;
    }
    ascii[a + 8] = ascii[a + 13] = ascii[a + 18] = ascii[a + 23] = 0x2d; // '-'
  }
  batch = ascii.toString('latin1');
  // The random bytes have been used: nothing of them stays in memory longer than needed.
  random.fill(0);
  ascii.fill(0);
  next = 0;
}

/** A new random UUID v4, unique per call (122 random bits). */
export function newRequestId(): string {
  if (next === IDS) refill();
  const at = next++ * ID_LEN;
  return batch.slice(at, at + ID_LEN);
}
