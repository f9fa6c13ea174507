// Invitations (src/api/routes_invite.c): a patient, or a new member of an
// organisation, joins without a key file changing hands. The clinician (or
// the organisation's admin, for a member) creates a one-time code; the
// newcomer's browser makes her key, signs her consent to be registered by
// that clinician (the signature the ledger's register_patient checks), or
// a member's acceptance, and hands it to the node; the inviter compares the
// match code both pages show and submits the registration (or enrolment)
// herself.
import { get, parse, status } from './api.js';
import { Writer } from './codec.js';
import { signedFetch } from './httpsig.js';
import { sodium } from './sodium.js';
import { TX, submit } from './tx.js';
import { concat, enc, hex, sha256, unhex } from './util.js';

// "abcd efgh-jkmn" -> "ABCD-EFGH-JKMN" (null when it cannot be a code).
export function normalizeCode(s) {
  const c = String(s || '').toUpperCase().replace(/[\s-]/g, '');
  return /^[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{12}$/.test(c) ? `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8)}` : null;
}

// Six digits from SHA-256 of the patient's key: both pages show them.
export async function matchCode(pkHex) {
  const d = await sha256(unhex(pkHex));
  return String(((d[0] << 16) | (d[1] << 8) | d[2]) % 1000000).padStart(6, '0');
}

export async function showInvitation(code) {
  return get(`/v1/invitations/${encodeURIComponent(code)}`);
}

// The patient accepts: her consent signature over inviter key || her key
// (purpose "patient-register", src/crypto/sign.h MC_SIGN_PATIENT).
export async function acceptInvitation(key, code, inviterHex) {
  const st = await status(true);
  const consent = await key.signDomain('patient-register', st.chain_id, concat(unhex(inviterHex), key.pk));
  const res = await fetch(`/v1/invitations/${encodeURIComponent(code)}/accept`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: enc.encode(JSON.stringify({ patient: key.pkHex, consent: hex(consent) })),
  });
  return parse(res);
}

// The clinician's side.
export async function createInvitation(key) {
  return signedFetch(key, '/v1/invitations', { method: 'POST', body: '', contentType: 'application/json' });
}
export async function myInvitations(key) {
  return (await signedFetch(key, '/v1/invitations')).invitations;
}
// register_patient: | pubkey patient | sig64 patient consent |, sent by the clinician.
export async function registerInvited(key, inv) {
  return submit(key, TX.register_patient, concat(unhex(inv.patient), unhex(inv.consent)));
}

// The clinician's address book of her patients, in this browser only
// (localStorage "medchain.patients.v1": { key hex: label }): the name or
// the organisation's own record number she typed; never sent to the node.
const BOOK = 'medchain.patients.v1';
export function addressBook() {
  try { return JSON.parse(localStorage.getItem(BOOK) || '{}'); } catch { return {}; }
}
export function remember(pkHex, label) {
  const b = addressBook();
  b[pkHex] = String(label).slice(0, 80);
  localStorage.setItem(BOOK, JSON.stringify(b));
}
export function findInBook(text) {
  const t = String(text || '').trim().toLowerCase();
  if (t.length < 2) return [];
  return Object.entries(addressBook()).filter(([, l]) => l.toLowerCase().includes(t)).map(([key, label]) => ({ key, label }))
    .sort((a, b) => a.label.localeCompare(b.label)).slice(0, 20);
}

// Labels typed for invitations not yet accepted (this browser only).
const LABELS = 'medchain.invitations.v1';
export function inviteLabel(code) {
  try { return JSON.parse(localStorage.getItem(LABELS) || '{}')[code] || ''; } catch { return ''; }
}
export function rememberInvite(code, label) {
  let m = {};
  try { m = JSON.parse(localStorage.getItem(LABELS) || '{}'); } catch { /* start again */ }
  m[code] = String(label).slice(0, 80);
  localStorage.setItem(LABELS, JSON.stringify(m));
}

// --- members: an organisation's admin invites, the new member accepts ---

// Role numbers of src/app/identity.h and the roles each kind of
// organisation may hold (mc_role_allowed_in).
export const ROLES = { clinician: 2, pharmacist: 3, researcher: 4, auditor: 5, manufacturer: 6, distributor: 7,
  pharmacy: 8, regulator: 9 };
const KIND_ROLES = {
  hospital: ['clinician', 'pharmacist', 'researcher', 'pharmacy'], clinic: ['clinician', 'pharmacist', 'researcher', 'pharmacy'],
  laboratory: ['clinician', 'researcher'], pharmacy: ['pharmacist', 'pharmacy'], manufacturer: ['manufacturer'],
  distributor: ['distributor'], research: ['researcher'], regulator: ['regulator'],
};
export function rolesFor(orgKind) {
  return [...(KIND_ROLES[orgKind] || []), 'auditor'];
}
export const ROLE_TEXT = { clinician: 'clinician', pharmacist: 'pharmacist', researcher: 'researcher', auditor: 'auditor',
  manufacturer: 'manufacturing staff', distributor: 'distribution staff', pharmacy: 'pharmacy staff', regulator: 'inspector' };
// The page a member of each role works on.
export const ROLE_PAGE = { clinician: '/clinician', auditor: '/auditor', researcher: '/research', pharmacist: '/verify',
  pharmacy: '/verify', manufacturer: '/verify', distributor: '/verify', regulator: '/verify' };

export async function createMemberInvitation(key, role, name) {
  return signedFetch(key, '/v1/invitations', { method: 'POST', contentType: 'application/json',
    body: JSON.stringify({ for: 'member', role, name }) });
}

// The new member's acceptance: her signature over inviter key || her key
// (purpose "member-join", src/crypto/sign.h MC_SIGN_MEMBER): she holds it.
export async function acceptMemberInvitation(key, code, inviterHex) {
  const st = await status(true);
  const consent = await key.signDomain('member-join', st.chain_id, concat(unhex(inviterHex), key.pk));
  const res = await fetch(`/v1/invitations/${encodeURIComponent(code)}/accept`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: enc.encode(JSON.stringify({ member: key.pkHex, consent: hex(consent) })),
  });
  return parse(res);
}

// The admin checks the acceptance again before enrolling: it must verify
// for this member's key over (admin key || member key).
export async function memberAcceptanceValid(adminKey, inv) {
  const st = await status();
  const c = enc.encode(st.chain_id);
  const msg = concat(enc.encode('medchain/v1/member-join'), Uint8Array.of(0, c.length), c, adminKey.pk, unhex(inv.member));
  const na = await sodium();
  try { return na.crypto_sign_verify_detached(unhex(inv.consent), msg, unhex(inv.member)); } catch { return false; }
}

// enroll_member: | pubkey member | u8 role | str8 name |, sent by the admin.
export async function enrollInvited(key, inv, role, name) {
  if (!ROLES[role]) throw new Error(`${role} is not a member role`);
  const n = String(name || '').trim();
  if (!n || enc.encode(n).length > 127) throw new Error('her name: 1 to 127 bytes');
  if (!(await memberAcceptanceValid(key, inv))) throw new Error('her acceptance does not verify for your key: do not enrol this key');
  return submit(key, TX.enroll_member, new Writer().fixed(unhex(inv.member), 32).u8(ROLES[role]).str8(n).bytes());
}

// revoke_member: | pubkey member | str8 reason |, sent by the admin (her
// key stops working at once; what she did stays on the ledger).
export async function revokeMember(key, memberHex, reason) {
  const r = String(reason || '').trim();
  if (!r || enc.encode(r).length > 255) throw new Error('Give a reason (1 to 255 bytes): it is kept on the ledger.');
  return submit(key, TX.revoke_member, new Writer().fixed(unhex(memberHex), 32).str8(r).bytes());
}
