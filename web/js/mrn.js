// An organisation's record numbers (src/api/routes_mrn.c): the clinician
// files the number her hospital gives a patient and finds the patient by
// it. The index is kept on the organisation's node only, never on the
// ledger, and only its members (signed requests) may use it.
import { signedFetch } from './httpsig.js';

// "  sm-4711 " -> "SM-4711" (null when it cannot be a record number).
export function normalizeMrn(s) {
  const m = String(s || '').trim().toUpperCase();
  return /^[A-Z0-9.-]{1,32}$/.test(m) ? m : null;
}

function checked(mrn) {
  const m = normalizeMrn(mrn);
  if (!m) throw new Error('A record number is 1 to 32 letters, digits, "-" or ".".');
  return m;
}

export async function fileMrn(key, mrn, patientHex) {
  return signedFetch(key, `/v1/mrn/${encodeURIComponent(checked(mrn))}`, {
    method: 'PUT', contentType: 'application/json', body: JSON.stringify({ patient: patientHex }) });
}

export async function findByMrn(key, mrn) {
  return signedFetch(key, `/v1/mrn/${encodeURIComponent(checked(mrn))}`);
}

// Her number in the signer's organisation, or null when she has none.
export async function mrnOf(key, patientHex) {
  return (await signedFetch(key, `/v1/mrn?patient=${patientHex}`)).mrn || null;
}

// The number typed with an invitation, until she is registered (this
// browser only: the node files it when the clinician registers her).
const PENDING = 'medchain.invitations.mrn.v1';
export function inviteMrn(code) {
  try { return JSON.parse(localStorage.getItem(PENDING) || '{}')[code] || ''; } catch { return ''; }
}
export function rememberInviteMrn(code, mrn) {
  let m = {};
  try { m = JSON.parse(localStorage.getItem(PENDING) || '{}'); } catch { /* start again */ }
  if (mrn) m[code] = mrn; else delete m[code];
  localStorage.setItem(PENDING, JSON.stringify(m));
}
