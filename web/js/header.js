// Block headers decoded in the page from their canonical bytes
// (src/chain/block.h), so a proof is checked against the header itself and
// not against what the node says the header holds.
import { Reader } from './codec.js';
import { hex, sha256, unhex } from './util.js';

export async function decodeHeader(headerHex) {
  const bytes = unhex(headerHex);
  const r = new Reader(bytes);
  const h = {};
  h.version = r.u8();
  if (h.version !== 1) throw new Error(`unknown header version ${h.version}`);
  h.chain_id = r.str8();
  h.height = Number(r.u64());
  h.time_ms = Number(r.u64());
  h.prev = hex(r.fixed(32));
  h.tx_root = hex(r.fixed(32));
  h.tx_count = r.u32();
  h.log_size = Number(r.u64());
  h.log_root = hex(r.fixed(32));
  h.state_hash = hex(r.fixed(32));
  h.valset_hash = hex(r.fixed(32));
  h.proposer = hex(r.fixed(32));
  h.last_commit_hash = hex(r.fixed(32));
  r.done();
  h.hash = hex(await sha256(bytes));
  return h;
}
