/**
 * Envoy's `MurmurHash::murmurHash2` (64-bit, the libstdc++ `_Hash_bytes` variant) with `STD_HASH_SEED`, used for
 * ring-hash entries when `ring_hash_lb_config.hash_function` is MURMUR_HASH_2 (ring keys only; request hashes from
 * hash policies stay xxHash64, as in Envoy).
 */
const MUL = 0xc6a4a7935bd1e995n;
const MASK = 0xffffffffffffffffn;
const STD_HASH_SEED = 0xc70f6907n;

const encoder = new TextEncoder();

function shiftMix(v: bigint): bigint {
  return v ^ (v >> 47n);
}

export function murmurHash2(input: string | Uint8Array, seed: bigint = STD_HASH_SEED): bigint {
  const b = typeof input === 'string' ? encoder.encode(input) : input;
  const len = b.length;
  const aligned = len & ~7;
  let hash = (seed ^ ((BigInt(len) * MUL) & MASK)) & MASK;
  for (let p = 0; p < aligned; p += 8) {
    let v = 0n;
    for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[p + k]!);
    const data = (shiftMix((v * MUL) & MASK) * MUL) & MASK;
    hash ^= data;
    hash = (hash * MUL) & MASK;
  }
  if ((len & 7) !== 0) {
    let v = 0n;
    for (let k = len - 1; k >= aligned; k--) v = (v << 8n) | BigInt(b[k]!);
    hash ^= v;
    hash = (hash * MUL) & MASK;
  }
  hash = (shiftMix(hash) * MUL) & MASK;
  return shiftMix(hash);
}
