// Research consent in the page (src/app/research.h, docs/RESEARCH.md).
//
//   research_consent (91, patient-signed)
//     | u8 scope (1 study, 2 purpose) | str8 target | u32 version |
//     | u8 action (1 permit, 2 withdraw) | u8 categories | u64 expiry_ms |
//   A withdrawal carries categories 0 and expiry 0. The ledger accepts
//   version v only when the latest for (patient, scope, target) is v-1.
import { Writer } from './codec.js';
import { signedFetch } from './httpsig.js';
import { CATEGORY_BIT } from './records.js';

export const CONSENT_STUDY = 1;
export const CONSENT_PURPOSE = 2;
export const CONSENT_PERMIT = 1;
export const CONSENT_WITHDRAW = 2;

export function consentPayload({ scope, target, version, action, categories = 0, expiryMs = 0 }) {
  const withdraw = action === CONSENT_WITHDRAW;
  return new Writer().u8(scope).str8(target).u32(version).u8(action)
    .u8(withdraw ? 0 : categories).u64(withdraw ? 0 : expiryMs).bytes();
}

const ext = (c, url) => (c.extension || []).find((e) => e.url === url) || {};

// The patient's research consent history (FHIR Consent, every version) as
// plain objects: { id, scope: 'study'|'purpose', target, version, permit,
// active, categories[], end, time }.
export async function researchConsents(key, patientHex = key.pkHex) {
  const b = await signedFetch(key, `/v1/research/consents?patient=${patientHex}`);
  return (b.entry || []).map((e) => e.resource).map((c) => ({
    id: c.id,
    scope: ext(c, 'urn:medchain:research-scope').valueCode,
    target: ext(c, 'urn:medchain:research-target').valueString,
    version: Number(ext(c, 'urn:medchain:consent-version').valueUnsignedInt || 0),
    permit: c.provision && c.provision.type === 'permit',
    active: c.status === 'active',
    categories: (c.provision && c.provision.class ? c.provision.class : []).map((x) => (typeof x === 'string' ? x : x.code)),
    end: c.provision && c.provision.period && c.provision.period.end,
    time: c.dateTime,
  }));
}

export function categoryBits(names) {
  return names.reduce((a, n) => a | (CATEGORY_BIT[n] || 0), 0);
}

// The version the next decision for (scope, target) must carry.
export function nextConsentVersion(history, scope, target) {
  const name = scope === CONSENT_STUDY ? 'study' : 'purpose';
  return history.filter((c) => c.scope === name && c.target === target)
    .reduce((m, c) => Math.max(m, c.version), 0) + 1;
}
