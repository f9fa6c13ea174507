// The light client in the page (the checks of src/chain/light.h, written
// again here from the formats): a header is believed only with a commit
// certificate whose every signature verifies and whose signers hold more
// than 2/3 of the voting power of the validator set the header names; a
// state row, or a key's absence, only with a proof that leads to that
// header's state root (src/chain/stateproof.h).
//
// Where the validator set comes from: the genesis set (GET
// /v1/validators?height=1), pinned on this device the first time it is seen
// (localStorage), so a node that later shows another genesis set is refused;
// then each change of validators (GET /v1/state/valsets) is followed only by
// its proof: the new set's row proven in the state of a header the set
// already trusted certified. Say so to the reader.
import { get } from './api.js';
import { Reader } from './codec.js';
import { decodeHeader } from './header.js';
import { sodium } from './sodium.js';
import { concat, enc, equal, hex, sha256, unhex } from './util.js';

const PIN = 'medchain.valset.v1';

function u64be(v) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v));
  return b;
}

// Canonical validator set (src/chain/valset.h): u16 count | (pk | u64 power | str8 name)*.
async function valsetHash(list) {
  const parts = [Uint8Array.of(list.length >> 8, list.length & 0xff)];
  for (const v of list) {
    const name = enc.encode(v.name);
    parts.push(unhex(v.node_key), u64be(v.power), Uint8Array.of(name.length), name);
  }
  return hex(await sha256(concat(...parts)));
}

async function ed25519Verify(sig, msg, pk) {
  if (globalThis.crypto && crypto.subtle) {
    try {
      const k = await crypto.subtle.importKey('raw', pk, { name: 'Ed25519' }, false, ['verify']);
      return await crypto.subtle.verify({ name: 'Ed25519' }, k, sig, msg);
    } catch (e) { /* no Ed25519 in this WebCrypto: libsodium below */ }
  }
  const s = await sodium();
  return s.crypto_sign_verify_detached(sig, msg, pk);
}

// Commit certificate (src/chain/commit.h) and the precommit each signs
// (src/chain/vote.h), under "medchain/v1/vote" || 0 || u8 len(chain) || chain.
async function checkCertificate(commitHex, hdr, validators) {
  const r = new Reader(unhex(commitHex));
  const height = Number(r.u64());
  const round = r.u32();
  const blockHash = hex(r.fixed(32));
  const count = r.u16();
  const sigs = [];
  for (let i = 0; i < count; i++) sigs.push({ index: r.u16(), sig: r.fixed(64) });
  r.done();
  if (height !== hdr.height || blockHash !== hdr.hash) throw new Error('the certificate is for another block');
  const chain = enc.encode(hdr.chain_id);
  const signed = concat(Uint8Array.of(2), u64be(height), new Uint8Array([round >>> 24, (round >>> 16) & 255, (round >>> 8) & 255, round & 255]),
    Uint8Array.of(1), unhex(blockHash));
  const msg = concat(enc.encode('medchain/v1/vote'), Uint8Array.of(0, chain.length), chain, signed);
  let power = 0n, total = 0n, last = -1;
  for (const v of validators) total += BigInt(v.power);
  for (const s of sigs) {
    if (s.index <= last) throw new Error('certificate signatures out of order');
    last = s.index;
    const v = validators[s.index];
    if (!v) throw new Error(`the certificate names validator ${s.index}, outside the set`);
    if (!(await ed25519Verify(s.sig, msg, unhex(v.node_key)))) throw new Error(`the signature of ${v.name} does not verify`);
    power += BigInt(v.power);
  }
  if (power * 3n <= total * 2n) throw new Error(`the signers hold ${power} of ${total} voting power, not more than 2/3`);
  return { count, power, total };
}

async function smtLeaf(kh, vh) { return sha256(concat(Uint8Array.of(0), kh, vh)); }
async function smtNode(l, r) { return sha256(concat(Uint8Array.of(1), l, r)); }
const bit = (kh, i) => (kh[i >> 3] >> (7 - (i & 7))) & 1;

// Checks a row of a /v1/state answer (or the resolver's state_proofs)
// for exactly `key` under the state root; returns the value bytes, or null
// for a proven absence. Throws when it does not hold.
export async function checkRow(row, key, stateRoot) {
  if (!row || hex(key) !== row.key_hex) throw new Error('the proof is about another key');
  const r = new Reader(unhex(row.proof_hex));
  const depth = r.u16();
  if (depth > 256) throw new Error('the proof is too deep');
  const sib = [];
  for (let i = 0; i < depth; i++) sib.push(r.fixed(32));
  const end = r.u8();
  const leaf = end === 1 ? { k: r.fixed(32), v: r.fixed(32) } : null;
  r.done();
  if (end > 1) throw new Error('the proof ends in an unknown kind');
  const kh = await sha256(key);
  let cur = new Uint8Array(32);
  const value = row.present ? unhex(row.value_hex) : null;
  if (leaf) {
    for (let i = 0; i < depth; i++) if (bit(leaf.k, i) !== bit(kh, i)) throw new Error('the proof leaves the key\'s path');
    const own = equal(leaf.k, kh);
    if (own !== row.present) throw new Error(own ? 'the proof shows the row present' : 'the proof shows the row absent');
    if (own && !equal(await sha256(value), leaf.v)) throw new Error('the row does not hash to the proof\'s leaf');
    cur = await smtLeaf(leaf.k, leaf.v);
  } else if (row.present) {
    throw new Error('the proof shows the row absent');
  }
  for (let i = depth; i-- > 0;) cur = bit(kh, i) ? await smtNode(sib[i], cur) : await smtNode(cur, sib[i]);
  if (hex(cur) !== stateRoot) throw new Error('the proof does not lead to the header\'s state root');
  return value;
}

// Canonical validator set bytes (as in a governance row) to the list form.
function decodeValset(bytes) {
  const r = new Reader(bytes);
  const n = r.u16();
  const list = [];
  for (let i = 0; i < n; i++) list.push({ node_key: hex(r.fixed(32)), power: r.u64().toString(), name: r.str8() });
  r.done();
  return list;
}

// The trusted sets: [{from, validators}], from the genesis set by proofs.
async function trustedSets(steps) {
  const g = await get('/v1/validators?height=1');
  const gh = await valsetHash(g.validators);
  let pinned = null;
  try { pinned = localStorage.getItem(PIN); } catch (e) { /* private mode */ }
  if (pinned && pinned !== gh) throw new Error('this node shows a genesis validator set other than the one this device trusted first');
  if (!pinned) try { localStorage.setItem(PIN, gh); } catch (e) { /* not kept */ }
  steps.push(`Genesis validator set ${gh.slice(0, 12)}… (${pinned ? 'the one this device trusted first' : 'first seen now: pinned on this device'})`);
  const sets = [{ from: 1, validators: g.validators }];
  const at = (height) => sets.filter((x) => x.from <= height).pop().validators;
  const { transitions } = await get('/v1/state/valsets');
  for (const t of transitions) {
    const hdr = await decodeHeader(t.header_hex);
    const vs = at(hdr.height);
    if ((await valsetHash(vs)) !== hdr.valset_hash) throw new Error(`header ${hdr.height} names a validator set not followed`);
    await checkCertificate(t.commit_hex, hdr, vs);
    const row = unhex(t.row_hex);
    const r = new Reader(row);
    const from = Number(r.u64());
    const vb = r.fixed(r.u32());
    if (from <= sets[sets.length - 1].from || hdr.height >= from) throw new Error('a validator set change is out of order');
    const key = concat(enc.encode('g/vh/'), u64be(from));
    await checkRow({ key_hex: hex(key), present: true, value_hex: t.row_hex, proof_hex: t.proof_hex }, key, hdr.state_hash);
    sets.push({ from, validators: decodeValset(vb) });
    steps.push(`Validators from block ${from}: proven at block ${hdr.height}, certified by the set before`);
  }
  return at;
}

// Checks an answer's anchor: header bytes, validator set, certificate.
// Returns { hdr, steps } or throws with the reason.
export async function checkAnchor(anchor) {
  const steps = [];
  const at = await trustedSets(steps);
  const hdr = await decodeHeader(anchor.header_hex);
  const vs = at(hdr.height);
  if ((await valsetHash(vs)) !== hdr.valset_hash) throw new Error('the header names a validator set this page does not trust');
  const c = await checkCertificate(anchor.commit_hex, hdr, vs);
  steps.push(`Header ${hdr.height} decoded from its bytes; it hashes to ${hdr.hash.slice(0, 12)}…`,
    `Its certificate: all ${c.count} signatures verified in your browser, power ${c.power} of ${c.total} (more than 2/3)`);
  return { hdr, steps };
}

function gtinLot(prefix, gtin, text) { return concat(enc.encode(prefix), enc.encode(gtin), enc.encode(text)); }

// The medicine check's current facts (GET /01/... state_proofs): the pack's
// row and its lot's row (or their absence), with keys computed here.
// Returns { ok, steps: [{ok, text}] }.
export async function checkPackState(v) {
  const steps = [];
  const step = (ok, text) => { steps.push({ ok, text }); return ok; };
  try {
    const sp = v.state_proofs;
    if (!sp) throw new Error('the answer carries no state proofs');
    const { hdr, steps: s } = await checkAnchor(sp.anchor);
    for (const t of s) step(true, t);
    const unit = await checkRow(sp.unit, gtinLot('s/u/', v.product.gtin, v.serial), hdr.state_hash);
    step(!!unit === !!v.status, unit ? `The pack's row is proven in the state (status ${v.status})`
      : 'The pack is proven absent from the state: never commissioned');
    const lot = v.lot || (v.scanned && v.scanned.lot);
    if (lot) {
      const row = await checkRow(sp.lot, gtinLot('s/l/', v.product.gtin, lot), hdr.state_hash);
      // lot row: u32 expiry | u32 manufacturer | u32 units | bool recalled | ...
      const recalled = !!row && row.length > 12 && row[12] === 1;
      step(recalled === !!v.recall, recalled ? `Lot ${lot}: the recall is proven in the state`
        : row ? `Lot ${lot}: proven not recalled` : `Lot ${lot}: proven to have no row, so no recall`);
    }
  } catch (e) {
    step(false, `Not proven: ${e.message}`);
  }
  return { ok: steps.length > 0 && steps.every((x) => x.ok), steps };
}
