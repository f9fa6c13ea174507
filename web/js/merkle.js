// RFC 6962 / RFC 9162 Merkle inclusion proof verification, written for the
// browser (independently of src/crypto/merkle.c):
//   leaf hash = SHA-256(0x00 || data), node hash = SHA-256(0x01 || l || r)
// verifyInclusion follows RFC 9162 section 2.1.3.2 step by step.
import { concat, equal, sha256 } from './util.js';

export async function leafHash(data) {
  return sha256(concat(Uint8Array.of(0), data));
}

export async function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

// Returns the root the proof leads to, or throws for a malformed proof.
// index and size are Numbers or BigInts (< 2^53 in practice).
export async function rootFromInclusion(leaf, index, size, path) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (BigInt(index) >= BigInt(size)) throw new Error('leaf index is outside the tree');
  if (leaf.length !== 32 || path.some((p) => p.length !== 32)) throw new Error('hashes must be 32 bytes');
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new Error('the proof is longer than the tree is deep');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error('the proof is shorter than the tree is deep');
  return r;
}

// True when the proof shows leaf at index in the tree of size with root.
export async function verifyInclusion(leaf, index, size, path, root) {
  try {
    return equal(await rootFromInclusion(leaf, index, size, path), root);
  } catch {
    return false;
  }
}
