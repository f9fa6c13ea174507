// Medical records in plain words, and the patient's side of the key model
// (docs/RECORDS.md): opening the batch keys sealed to the patient, deriving
// each record version's data key, and resealing data keys to a grantee.
import { Writer } from './codec.js';
import { account, get, orgName } from './api.js';
import { signedFetch } from './httpsig.js';
import { sodium } from './sodium.js';
import { dec, enc, hex, sha256, unb64, unhex, when } from './util.js';

export const TYPES = ['AllergyIntolerance', 'Condition', 'Observation', 'MedicationStatement', 'Immunization',
  'Encounter', 'DiagnosticReport', 'DocumentReference', 'Patient', 'Claim', 'ExplanationOfBenefit'];

export const TYPE_WORDS = {
  Patient: 'personal details', Encounter: 'visits', Condition: 'conditions', AllergyIntolerance: 'allergy list',
  Observation: 'test results', DiagnosticReport: 'reports', MedicationStatement: 'medicines',
  Immunization: 'vaccinations', DocumentReference: 'documents', Claim: 'insurance claims',
  ExplanationOfBenefit: 'insurance statements', Provenance: 'record history',
};

export const CATEGORIES = [
  [1, 'demographics', 'Personal details'], [2, 'encounters', 'Visits'], [4, 'problems', 'Conditions and allergies'],
  [8, 'results', 'Test results and reports'], [16, 'medications', 'Medicines and vaccinations'],
  [32, 'documents', 'Documents'], [64, 'financial', 'Insurance and billing'], [128, 'provenance', 'Record history'],
];
export const CATEGORY_BIT = Object.fromEntries(CATEGORIES.map(([b, n]) => [n, b]));

export const PURPOSE_WORDS = {
  TREAT: 'for treatment', ETREAT: 'for emergency treatment', BTG: 'in an EMERGENCY (break-glass)',
  HRESCH: 'for research', PATRQT: 'at your request', HOPERAT: 'for hospital operations',
};

// How a resource reads in words (title, date, facts): fhirview.js.

// "Dr Bob Marley at St Mary's Hospital" for an account key, cached.
const names = new Map();
export async function whoIs(keyHex, selfHex) {
  if (keyHex === selfHex) return 'You';
  if (!names.has(keyHex)) {
    names.set(keyHex, (async () => {
      const a = await account(keyHex).catch(() => null);
      if (!a) return `An unknown key (${keyHex.slice(0, 8)}…)`;
      const org = a.org ? await orgName(a.org) : null;
      return `${a.name || a.role}${org ? ` at ${org}` : ''}`;
    })());
  }
  return names.get(keyHex);
}

// One access-log entry (AuditEvent) in plain words.
export async function describeAccess(ev, selfHex, typeOfRecord) {
  const agent = ev.agent && ev.agent[0];
  const who = agent && agent.who && agent.who.identifier ? agent.who.identifier.value : '';
  const purpose = agent && agent.purposeOfUse && agent.purposeOfUse[0] && agent.purposeOfUse[0].coding[0].code;
  const what = ev.entity && ev.entity[0] && ev.entity[0].what && ev.entity[0].what.identifier &&
    ev.entity[0].what.identifier.value;
  const type = typeOfRecord(what);
  const sub = ev.subtype && ev.subtype[0] && ev.subtype[0].code;
  const thing = what && what !== '(none)' ? `your ${TYPE_WORDS[type] || 'record'}`
    : sub === 'search-type' ? 'a list of your records' : 'your records';
  const name = await whoIs(who, selfHex);
  const ok = ev.outcome === '0';
  const verb = sub === 'create' ? 'added to' : 'read';
  const pw = PURPOSE_WORDS[purpose] || '';
  const search = sub === 'search-type' && !(what && what !== '(none)');
  const sentence = ok && search
    ? `${name} searched your records${pw ? ` ${pw}` : ''} on ${when(ev.recorded)}${ev.outcomeDesc ? `: ${ev.outcomeDesc}` : ''}.`
    : ok
    ? `${name} ${verb} ${thing}${pw ? ` ${pw}` : ''} on ${when(ev.recorded)}.`
    : `${name} was REFUSED access to ${thing} on ${when(ev.recorded)}: ${ev.outcomeDesc || 'not permitted'}.`;
  return { sentence, ok, btg: purpose === 'BTG', who, tx: ev.id };
}

export async function everything(key) {
  return signedFetch(key, `/fhir/Patient/${key.pkHex}/$everything`, { purpose: 'PATRQT' });
}

export async function recordList(key, patientHex = key.pkHex) {
  return signedFetch(key, `/v1/records?patient=${patientHex}`);
}

export async function accessLog(key, patientHex) {
  const q = patientHex ? `?patient=${patientHex}` : '';
  return signedFetch(key, `/fhir/AuditEvent${q}`);
}

export async function consents(key) {
  return signedFetch(key, `/fhir/Consent?patient=${key.pkHex}`);
}

// The data key of one record version: BLAKE2b-256 keyed by the batch key
// over "medchain/v1/record-key" || str8 id || u32 version.
export async function dataKey(batchKey, id, version) {
  const s = await sodium();
  const msg = new Writer().push(enc.encode('medchain/v1/record-key')).str8(id).u32(version).bytes();
  return s.crypto_generichash(32, msg, batchKey);
}

// Grant payload (app/records.h):
// | u8 kind | pubkey member | u32 org | u8 categories | u64 expiry_ms |
// | u16 count | count x (str8 id | u32 version | pubkey recipient | sealed80) |
// The patient opens each batch key sealed to them and seals every covered
// record version's data key to each recipient (the member, and the node
// keys of the grantee's organisation that serve reads).
export async function grantPayload(key, list, { kind, member, org, categories, expiryMs, recipients }) {
  const s = await sodium();
  const { publicKey, privateKey } = await key.x25519();
  const batchKeys = new Map();
  const entries = [];
  for (const r of list.records) {
    if (r.erased || !(CATEGORY_BIT[r.category] & categories)) continue;
    for (const v of r.history) {
      const b = list.batches[v.batch];
      if (!b || !b.has_keys) continue;
      if (!batchKeys.has(v.batch)) {
        batchKeys.set(v.batch, s.crypto_box_seal_open(unhex(b.sealed_patient), publicKey, privateKey));
      }
      const dk = await dataKey(batchKeys.get(v.batch), r.id, v.version);
      for (const to of recipients) {
        if (entries.length >= 320) break;
        const xpk = s.crypto_sign_ed25519_pk_to_curve25519(to);
        entries.push({ id: r.id, version: v.version, to, sealed: s.crypto_box_seal(dk, xpk) });
      }
    }
  }
  const w = new Writer().u8(kind).fixed(member || new Uint8Array(32), 32).u32(org || 0).u8(categories)
    .u64(expiryMs || 0).u16(entries.length);
  for (const e of entries) w.str8(e.id).u32(e.version).fixed(e.to, 32).fixed(e.sealed, 80);
  return { payload: w.bytes(), keys: entries.length };
}

// Node keys of an organisation's validators (the nodes that serve reads).
export async function orgNodeKeys(orgId) {
  const v = await get('/v1/validators');
  return v.validators.filter((x) => x.org === Number(orgId)).map((x) => unhex(x.node_key));
}

// The patient's portal visit: her record list and the ciphertext of every
// live record's current version in one signed request
// (GET /v1/records?patient=ME&content=1), logged as ONE access entry whose
// reason names the Merkle root of what was served (app/records_listing.h);
// a large history comes in pages (next_after), one entry each. Every
// ciphertext is checked against the hash the ledger anchored and opened
// here with the batch key sealed to the patient. Returns the list (as
// recordList) and, per record, { resource, version, ciphertextHash } or
// { error, id, type }.
export async function openListing(key) {
  const s = await sodium();
  let list = null;
  const served = [];
  let after = '';
  for (let page = 0; page < 64; page++) {
    const r = await signedFetch(key, `/v1/records?patient=${key.pkHex}&content=1${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    if (!list) list = { ...r, sealed: undefined, unavailable: [] };
    served.push(...r.sealed);
    list.unavailable.push(...(r.unavailable || []));
    list.accessTx = list.accessTx || r.access_tx;
    if (!r.next_after) break;
    after = r.next_after;
  }
  const { publicKey, privateKey } = await key.x25519();
  const byId = new Map(list.records.map((r) => [r.id, r]));
  const batchKeys = new Map();
  const opened = [];
  for (const it of served) {
    const rec = byId.get(it.id);
    try {
      const v = rec && rec.history.find((x) => x.version === it.version);
      const ct = unb64(it.ciphertext);
      const h = hex(await sha256(ct));
      if (!v || h !== it.ciphertext_hash || h !== v.ciphertext) {
        throw new Error(`the ciphertext of ${it.id} does not match the hash anchored on the ledger`);
      }
      const ad = new Writer().str8(it.id).u32(it.version).bytes();
      if (hex(ad) !== it.ad) throw new Error(`the node sent other associated data for ${it.id}`);
      const b = list.batches[v.batch];
      if (!b || !b.has_keys) throw new Error(`no key of ${it.id} is sealed to you`);
      if (!batchKeys.has(v.batch)) batchKeys.set(v.batch, s.crypto_box_seal_open(unhex(b.sealed_patient), publicKey, privateKey));
      const dk = await dataKey(batchKeys.get(v.batch), it.id, it.version);
      let plain;
      try {
        plain = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct.subarray(24), ad, ct.subarray(0, 24), dk);
      } catch {
        throw new Error(`${it.id} does not decrypt with its key`);
      } finally {
        s.memzero(dk);
      }
      const res = JSON.parse(dec.decode(plain));
      const t = new Date(v.time_ms).toISOString();
      res.meta = { ...(res.meta || {}), versionId: String(it.version), lastUpdated: t };
      opened.push({ resource: res, version: it.version, ciphertextHash: h });
    } catch (e) {
      opened.push({ error: e.message, id: it.id, type: rec ? rec.type : '' });
    }
  }
  for (const k of batchKeys.values()) s.memzero(k);
  for (const u of list.unavailable) opened.push({ error: u.reason, id: u.id, type: (byId.get(u.id) || {}).type || '' });
  return { list, opened };
}

// One record version decrypted in the page (GET /v1/records/{id}/sealed,
// signed and logged like every read). The node sends the ciphertext
// (| nonce 24 | XChaCha20-Poly1305 ciphertext and tag |, crypto/envelope.h),
// its associated data (str8 id || u32 version) and the key sealed to the
// signer: the batch key for the patient (the data key is derived here), or
// a granted data key. The ciphertext is checked against the SHA-256 the
// ledger anchored (expectHash, from GET /v1/records) before it is opened.
// The private key never leaves the page.
export async function openSealed(key, id, { version, expectHash } = {}) {
  const s = await sodium();
  const q = version ? `?version=${version}` : '';
  const r = await signedFetch(key, `/v1/records/${encodeURIComponent(id)}/sealed${q}`, { purpose: 'PATRQT' });
  const ct = unb64(r.ciphertext);
  const h = hex(await sha256(ct));
  if (h !== r.ciphertext_hash || (expectHash && h !== expectHash)) {
    throw new Error(`the ciphertext of ${id} does not match the hash anchored on the ledger`);
  }
  const ad = new Writer().str8(r.id).u32(r.version).bytes();
  if (hex(ad) !== r.ad) throw new Error(`the node sent other associated data for ${id}`);
  const { publicKey, privateKey } = await key.x25519();
  const opened = s.crypto_box_seal_open(unhex(r.sealed_key), publicKey, privateKey);
  const dk = r.key_kind === 'batch' ? await dataKey(opened, r.id, r.version) : opened;
  let plain;
  try {
    plain = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct.subarray(24), ad, ct.subarray(0, 24), dk);
  } catch {
    throw new Error(`${id} does not decrypt with its key`);
  } finally {
    s.memzero(dk);
    s.memzero(opened);
  }
  const res = JSON.parse(dec.decode(plain));
  res.meta = { ...(res.meta || {}), versionId: String(r.version), lastUpdated: r.last_updated };
  return { resource: res, version: r.version, ciphertextHash: h, accessTx: r.access_tx };
}
