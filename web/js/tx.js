// Transactions built and signed in the page (src/chain/tx.h):
//
//   | u8 version (=1) | str8 chain id | u16 type | pubkey 32 sender |
//   | u64 nonce | u32 len | payload | sig 64 |
//
// The signature is Ed25519 with purpose "tx" over every byte before it
// (src/crypto/sign.h); the transaction id is SHA-256 of the whole.
import { Writer } from './codec.js';
import { concat, hex, sha256 } from './util.js';
import { account, get, parse, status } from './api.js';

export const TX = {
  enroll_member: 1, revoke_member: 2, register_patient: 3, rotate_key: 4,
  drug_commission: 20, drug_aggregate: 21, drug_disaggregate: 22, drug_ship: 23,
  drug_receive: 24, drug_dispense: 25, drug_decommission: 26, drug_recall: 27, drug_flag: 28,
  record_grant: 52, record_revoke: 53, record_erase: 54, record_review: 55,
  research_consent: 91,
};

export async function buildTx(key, chainId, type, nonce, payload) {
  const unsigned = new Writer().u8(1).str8(chainId).u16(type).fixed(key.pk, 32).u64(nonce)
    .bytes32(payload).bytes();
  const sig = await key.signDomain('tx', chainId, unsigned);
  const bytes = concat(unsigned, sig);
  return { bytes, id: hex(await sha256(bytes)) };
}

const lastNonce = new Map(); // key hex -> last nonce this page used

async function nextNonce(key) {
  const a = await account(key.pkHex);
  if (!a) throw new Error('this key is not known to the ledger (not enrolled or registered)');
  const used = Math.max(Number(a.nonce || 0), lastNonce.get(key.pkHex) || 0);
  return used + 1;
}

// Signs, submits and waits (up to timeoutMs) for the transaction to be
// committed or rejected. Returns the final /v1/tx answer; throws with the
// ledger's reason when refused or rejected.
export async function submit(key, type, payload, timeoutMs = 15000) {
  const st = await status(true);
  const nonce = await nextNonce(key);
  const { bytes, id } = await buildTx(key, st.chain_id, type, nonce, payload);
  const res = await fetch('/v1/tx', { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: bytes });
  await parse(res);
  lastNonce.set(key.pkHex, nonce);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const t = await get(`/v1/tx/${id}`).catch(() => null);
    if (t && t.status === 'committed') return t;
    if (t && t.status === 'rejected') {
      lastNonce.set(key.pkHex, nonce - 1);
      throw new Error(`the ledger refused it: ${t.reason || t.error}`);
    }
    if (Date.now() > until) throw new Error(`transaction ${id.slice(0, 12)}… is still pending`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
