// Checks a transaction's inclusion in the ledger, in the browser, step by
// step, against a block header fetched and decoded separately:
//   1. SHA-256(transaction bytes) is the transaction id;
//   2. the RFC 6962 leaf hash of those bytes is the proof's leaf;
//   3. the header's bytes hash to the block hash the proof names;
//   4. the audit path leads from the leaf to the header's log root, at the
//      header's log size (the ledger-wide log);
//   5. the block audit path leads to the header's transaction root of the
//      block that holds the transaction.
// Returns { ok, steps: [{ ok, text }] }.
import { get } from './api.js';
import { decodeHeader } from './header.js';
import { leafHash, rootFromInclusion } from './merkle.js';
import { equal, hex, sha256, unhex } from './util.js';

export async function checkInclusion(id, proof) {
  const steps = [];
  const step = (ok, text) => { steps.push({ ok, text }); return ok; };
  try {
    const bytes = unhex(proof.tx_hex);
    step(hex(await sha256(bytes)) === id, 'The transaction bytes hash to its id');
    const leaf = await leafHash(bytes);
    step(equal(leaf, unhex(proof.leaf_hash)), 'Their RFC 6962 leaf hash is the leaf the proof starts from');
    const blk = await get(`/v1/block/${proof.header.height}`);
    const hdr = await decodeHeader(blk.header_hex);
    step(hdr.hash === proof.header.hash && hdr.height === proof.header.height,
      `Header ${hdr.height} hashes to block ${hdr.hash.slice(0, 12)}…`);
    let root = null;
    try {
      root = await rootFromInclusion(leaf, proof.leaf_index, hdr.log_size, proof.audit_path.map(unhex));
    } catch (e) {
      step(false, `The ledger-log audit path is malformed: ${e.message}`);
    }
    if (root) {
      step(proof.tree_size === hdr.log_size && hex(root) === hdr.log_root,
        `The audit path (${proof.audit_path.length} hashes) leads to the header's log root: leaf ${proof.leaf_index} of ${hdr.log_size}`);
    }
    if (proof.block) {
      const b = proof.block;
      const bb = b.height === hdr.height ? hdr : await decodeHeader((await get(`/v1/block/${b.height}`)).header_hex);
      let broot = null;
      try {
        broot = await rootFromInclusion(leaf, b.index, bb.tx_count, b.audit_path.map(unhex));
      } catch (e) {
        step(false, `The block audit path is malformed: ${e.message}`);
      }
      if (broot) step(hex(broot) === bb.tx_root, `It is transaction ${b.index} of ${bb.tx_count} in block ${b.height} (the block's transaction root)`);
    }
  } catch (e) {
    step(false, `The proof could not be checked: ${e.message}`);
  }
  return { ok: steps.length > 0 && steps.every((s) => s.ok), steps };
}
