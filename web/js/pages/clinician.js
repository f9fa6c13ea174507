// Clinician view: read a patient's records with a purpose of use (signed
// FHIR searches; every read or refusal is logged on the ledger), emergency
// break-glass access with a reason, and new records from a simple form,
// stored as FHIR R4.
import { layout } from '../layout.js';
import { keyPanel } from '../keypanel.js';
import { signedFetch } from '../httpsig.js';
import { TYPES, TYPE_WORDS } from '../records.js';
import { jsonDetails, summaryView, timelineView } from '../fhirview.js';
import { addressBook, createInvitation, findInBook, inviteLabel, myInvitations, registerInvited, remember, rememberInvite } from '../invite.js';
import { fileMrn, findByMrn, inviteMrn, mrnOf, normalizeMrn, rememberInviteMrn } from '../mrn.js';
import { decode } from '../scan.js';
import { $, action, h, note, show } from '../util.js';

layout();
let me = null;

keyPanel('#keys', {
  title: 'Your key',
  onKey: (k) => {
    me = k;
    const ok = k && k.account && k.account.role === 'clinician' && k.account.status === 'active';
    $('#work').classList.toggle('hidden', !ok);
    if (k && !ok) show('#read-out', note('warn', 'This key is not an active clinician.'));
    if (ok) invitations().catch((e) => show('#invite-list', note('bad', e.message)));
  },
});

// --- the patient chosen, and her record number at this organisation ---

// Sets the patient to read; then shows her record number here (or a box to
// file one).
function choose(pkHex, ...chosenText) {
  $('#patient').value = pkHex;
  if (chosenText.length) show('#patient-chosen', ...chosenText);
  return mrnBox(pkHex);
}

let mrnSeq = 0;
async function mrnBox(pkHex) {
  const mine = ++mrnSeq;
  show('#mrn-saved');
  if (!/^[0-9a-f]{64}$/.test(pkHex || '')) {
    $('#mrn-box').classList.add('hidden');
    return;
  }
  $('#mrn-box').classList.remove('hidden');
  show('#mrn-current', h('span.muted', 'Looking up her record number…'));
  const before = $('#mrn-set').value;
  try {
    const m = await mrnOf(me.key, pkHex);
    if (mine !== mrnSeq) return;
    if ($('#mrn-set').value === before) $('#mrn-set').value = m || ''; // unless typed meanwhile
    show('#mrn-current', m ? ['Her record number here: ', h('strong.mono#mrn-shown', m)] : h('span.muted', 'No record number filed for her here yet.'));
  } catch (e) {
    if (mine === mrnSeq) show('#mrn-current', note('bad', e.message));
  }
}

$('#patient').addEventListener('change', () => mrnBox($('#patient').value.trim().toLowerCase()));

// By the organisation's own record number (its node's index; signed).
async function findMrn() {
  const mrn = normalizeMrn($('#mrn-find').value);
  if (!mrn) throw new Error('A record number is 1 to 32 letters, digits, "-" or ".".');
  show('#patient-chosen', h('span.muted', 'Looking up the record number…'));
  const r = await findByMrn(me.key, mrn);
  const label = addressBook()[r.patient];
  await choose(r.patient, `Chosen by record number ${r.mrn}: `, h('strong.picked', label || `the patient of ${r.org_name || 'your organisation'} with this number`));
}
$('#mrn-go').addEventListener('click', () => findMrn().catch((e) => show('#patient-chosen', note('bad', e.message))));
$('#mrn-find').addEventListener('keydown', (ev) => {
  if (ev.key !== 'Enter') return;
  ev.preventDefault();
  findMrn().catch((e) => show('#patient-chosen', note('bad', e.message)));
});

action($('#mrn-save'), $('#mrn-saved'), async () => {
  const pk = $('#patient').value.trim().toLowerCase();
  const r = await fileMrn(me.key, $('#mrn-set').value, pk);
  show('#mrn-saved', note('ok', `Filed: record number ${r.mrn} names her at ${r.org_name || 'your organisation'}.`));
  show('#mrn-current', 'Her record number here: ', h('strong.mono#mrn-shown', r.mrn));
});

// --- her patients, found by the label she gave them (this browser only) ---

$('#patient-find').addEventListener('input', () => {
  const found = findInBook($('#patient-find').value);
  show('#patient-found', found.map((p) => h('li', h('button.link.pick', { type: 'button', onclick: () => {
    choose(p.key, 'Chosen: ', h('strong.picked', p.label));
    show('#patient-found');
  } }, p.label))), $('#patient-find').value.trim().length >= 2 && !found.length
    ? h('li.muted', 'Nobody by that name in this browser\'s list: paste her key below.') : null);
});

// Her code: a photo of the QR her page shows (medchain:account:KEY).
$('#patient-scan').addEventListener('change', async () => {
  const f = $('#patient-scan').files[0];
  if (!f) return;
  show('#patient-chosen', h('span.muted', 'Reading the code…'));
  try {
    const r = await decode(f);
    const m = r && /^medchain:account:([0-9a-f]{64})$/.exec(r.text);
    if (!m) throw new Error(r ? 'this code is not a medchain patient code' : 'no code found in this photo: try closer, flat and lit');
    const label = addressBook()[m[1]];
    await choose(m[1], 'Chosen from her code: ', h('strong.picked', label || `the patient with key ${m[1].slice(0, 8)}…`));
  } catch (e) {
    show('#patient-chosen', note('bad', e.message));
  }
});

// --- invitations ---

async function invitations() {
  const list = await myInvitations(me.key);
  const book = addressBook();
  show('#invite-list', list.length ? h('ul.log#invitations', list.map((inv) => {
    const label = inviteLabel(inv.code) || (inv.patient && book[inv.patient]) || '';
    if (inv.state === 'pending') {
      return h('li', { 'data-code': inv.code }, h('strong.mono', inv.code), ` ${label ? `for ${label} ` : ''}— waiting for her to accept (until ${inv.expires.slice(0, 16).replace('T', ' ')} UTC).`);
    }
    if (inv.registered) {
      return h('li', { 'data-code': inv.code }, h('strong.mono', inv.code), ` ${label || 'Your patient'} is registered.`);
    }
    const btn = h('button', { type: 'button', 'data-register': inv.code }, 'The numbers match: register her');
    const msg = h('span.invite-msg', { 'aria-live': 'polite' });
    const mrnId = `mrn-${inv.code}`;
    const mrnIn = h('input.reg-mrn', { id: mrnId, type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: 32, value: inviteMrn(inv.code) });
    const li = h('li.accepted', { 'data-code': inv.code }, h('strong.mono', inv.code), ` ${label ? `${label}: ` : ''}accepted. Her page shows `,
      h('strong.match', inv.match_code.replace(/^(\d{3})(\d{3})$/, '$1 $2')), '. ',
      h('label', { for: mrnId }, 'Her record number here (optional)'), mrnIn, btn, msg);
    action(btn, msg, async () => {
      const mrn = mrnIn.value.trim() ? normalizeMrn(mrnIn.value) : '';
      if (mrn === null) throw new Error('A record number is 1 to 32 letters, digits, "-" or ".".');
      show(msg, h('span.muted', ' Signing the registration…'));
      const t = await registerInvited(me.key, inv);
      remember(inv.patient, label || (mrn ? `Record number ${mrn}` : `Patient registered ${new Date().toISOString().slice(0, 10)}`));
      let filed = '';
      if (mrn) {
        try {
          await fileMrn(me.key, mrn, inv.patient);
          rememberInviteMrn(inv.code, '');
          filed = `, record number ${mrn} filed`;
        } catch (e) {
          filed = `; her record number was not filed (${e.message}): file it when you next open her`;
        }
      }
      show(msg, h('span.note.ok', ` Registered (block ${t.height})${filed}.`));
      if (!filed.startsWith(';')) await invitations();
    });
    return li;
  })) : h('p.muted', 'No open invitations.'));
}

action($('#invite-go'), $('#invite-out'), async () => {
  const typed = $('#invite-mrn').value.trim();
  const mrn = typed ? normalizeMrn(typed) : '';
  if (mrn === null) throw new Error('A record number is 1 to 32 letters, digits, "-" or "." (or leave it empty).');
  const inv = await createInvitation(me.key);
  const label = $('#invite-label').value.trim();
  if (label) rememberInvite(inv.code, label);
  if (mrn) rememberInviteMrn(inv.code, mrn);
  show('#invite-out', h('div.note.info#invite-made', h('p', 'Show her this code: ', h('strong.big.mono#invite-code', inv.code)),
    h('img#invite-qr', { src: `/v1/invitations/${encodeURIComponent(inv.code)}/qr.svg?origin=${encodeURIComponent(location.origin)}`,
      alt: `QR code of the invitation link for her phone's camera (code ${inv.code})`, width: 220, height: 220 }),
    h('p', 'Or let her open ', h('a#invite-link', { href: inv.link }, `${location.origin}${inv.link}`), ' on her phone.'),
    h('p.muted', `Valid until ${inv.expires.slice(0, 16).replace('T', ' ')} UTC, once.`)));
  $('#invite-label').value = '';
  $('#invite-mrn').value = '';
  await invitations();
});
action($('#invite-refresh'), $('#invite-list'), invitations);

const READ_TYPES = TYPES.filter((t) => t !== 'Claim' && t !== 'ExplanationOfBenefit');
show('#rtype', h('option', { value: '*' }, 'Everything I may read: summary and timeline'), READ_TYPES.map((t) =>
  h('option', { value: t }, TYPE_WORDS[t][0].toUpperCase() + TYPE_WORDS[t].slice(1))));

// One signed, logged search of one type: { ok, status, why, resources, logged }.
async function search(pk, type, purpose, reason) {
  // (R4 defines no patient parameter on Patient: her account key is her identifier)
  const who = type === 'Patient' ? `identifier=urn:medchain:account%7C${pk}` : `patient=${pk}`;
  const res = await signedFetch(me.key, `/fhir/${type}?${who}`, { purpose, breakGlass: reason || undefined, raw: true });
  const body = await res.json().catch(() => ({}));
  const why = body.issue && body.issue[0] ? body.issue[0].diagnostics : body.message;
  return { type, ok: res.ok, status: res.status, why, resources: res.ok ? (body.entry || []).map((e) => e.resource) : [],
    logged: res.headers.get('X-Medchain-Access-Tx') };
}

// The records as a timeline (fhirview.js), each with an Open button that
// reads it on its own (a logged read of that record) and its FHIR JSON.
function readList(rs, reason) {
  return h('div#read-list', timelineView(rs.map((r) => ({ resource: r })), {
    after: ({ resource: r }) => {
      const full = h('div');
      const open = h('button.secondary', { type: 'button', 'data-open': r.id }, 'Open');
      open.addEventListener('click', () => openRecord(r.resourceType, r.id, reason, full).catch((e) => show(full, note('bad', e.message))));
      return [h('div', open, jsonDetails(r, 'FHIR data (as found by the search)')), full];
    },
  }));
}

function patientKey() {
  const k = $('#patient').value.trim().toLowerCase().replace(/^patient\//, '');
  if (!/^[0-9a-f]{64}$/.test(k)) throw new Error('a patient identifier is their key: 64 hex digits');
  return k;
}

$('#find-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#read-out');
  const btn = $('#read');
  btn.disabled = true;
  try {
    const pk = patientKey();
    const type = $('#rtype').value;
    const reason = $('#btg').open ? $('#btg-reason').value.trim() : '';
    if ($('#btg').open && !reason) throw new Error('emergency access needs a reason');
    show(out, h('p.muted', 'Asking…'));
    const purpose = reason ? 'ETREAT' : $('#purpose').value;
    const emergency = reason ? note('warn', 'Emergency access: recorded, reviewed by an auditor, and shown to the patient.') : null;
    if (type === '*') {
      // Every kind this page reads: one signed, logged search each.
      const all = await Promise.all(READ_TYPES.map((t) => search(pk, t, purpose, reason)));
      const ok = all.filter((x) => x.ok);
      const refused = all.filter((x) => !x.ok);
      if (!ok.length) {
        show(out, h('div.note.bad#refused', { role: 'alert' }, h('strong', `Refused (${refused[0].status}). `), refused[0].why || ''));
        return;
      }
      const rs = ok.flatMap((x) => x.resources);
      show(out, emergency,
        refused.length ? note('info', `Not permitted to you: ${refused.map((x) => TYPE_WORDS[x.type]).join(', ')}.`) : null,
        h('h3', 'Summary'), summaryView(rs),
        h('h3', `Timeline: ${rs.length} records, newest first`),
        rs.length ? readList(rs, reason) : h('p', 'None.'),
        h('p.muted', `${ok.length} searches, each on the ledger.`));
      return;
    }
    const r = await search(pk, type, purpose, reason);
    const trace = r.logged ? h('p.muted', 'This access is on the ledger: ', h('a', { href: `/explorer#tx=${r.logged}` }, 'entry')) : null;
    if (!r.ok) {
      show(out, h('div.note.bad#refused', { role: 'alert' }, h('strong', `Refused (${r.status}). `), r.why || ''), trace);
      return;
    }
    const rs = r.resources;
    show(out, emergency,
      h('h3', `${TYPE_WORDS[type]}: ${rs.length}`),
      rs.length ? readList(rs, reason) : h('p', 'None.'),
      trace);
  } catch (e) {
    show(out, note('bad', e.message));
  } finally {
    btn.disabled = false;
  }
});

// Reads one record (its own signed request, logged as a read of that
// record) and shows it whole.
async function openRecord(type, id, reason, out) {
  const res = await signedFetch(me.key, `/fhir/${type}/${id}`, {
    purpose: reason ? 'ETREAT' : $('#purpose').value, breakGlass: reason || undefined, raw: true });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const why = body.issue && body.issue[0] ? body.issue[0].diagnostics : body.message;
    show(out, h('div.note.bad.refused-open', { role: 'alert' }, `Refused (${res.status}): ${why || ''}`));
    return;
  }
  show(out, h('div.opened', h('dl.kv', h('dt', 'Record'), h('dd.mono', `${type}/${id}`),
    h('dt', 'Version'), h('dd', (body.meta && body.meta.versionId) || '1'),
    body.note ? [h('dt', 'Note'), h('dd', body.note.map((n) => n.text).join(' '))] : null),
  h('details', h('summary', 'FHIR'), h('pre', JSON.stringify(body, null, 1)))));
}

function addFields() {
  const t = $('#add-type').value;
  $('#f-value').classList.toggle('hidden', t !== 'Observation');
  $('#f-crit').classList.toggle('hidden', t !== 'AllergyIntolerance');
}
$('#add-type').addEventListener('change', addFields);
addFields();

// The FHIR R4 resource for the form (the elements fhir.h requires).
function resource(pk) {
  const type = $('#add-type').value;
  const text = $('#add-text').value.trim();
  if (!text) throw new Error('say what the record is about');
  const note_ = $('#add-note').value.trim();
  const ref = { reference: `Patient/${pk}` };
  const now = new Date().toISOString();
  const base = { resourceType: type };
  if (note_) base.note = [{ text: note_ }];
  switch (type) {
    case 'AllergyIntolerance':
      return { ...base, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        criticality: $('#add-crit').value, code: { text }, patient: ref, recordedDate: now };
    case 'Condition':
      return { ...base, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        code: { text }, subject: ref, recordedDate: now };
    case 'Observation': {
      const m = /^\s*(-?\d+(?:\.\d+)?)\s*(.*)$/.exec($('#add-value').value);
      const o = { ...base, status: 'final', code: { text }, subject: ref, effectiveDateTime: now };
      if (m) o.valueQuantity = { value: Number(m[1]), unit: m[2] || undefined };
      else if ($('#add-value').value.trim()) o.valueString = $('#add-value').value.trim();
      return o;
    }
    default:
      return { ...base, status: 'active', medicationCodeableConcept: { text }, subject: ref, effectiveDateTime: now };
  }
}

$('#add-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#add-out');
  const btn = $('#add-go');
  btn.disabled = true;
  try {
    const pk = patientKey();
    const r = resource(pk);
    const res = await signedFetch(me.key, `/fhir/${r.resourceType}`, { method: 'POST', body: JSON.stringify(r), raw: true });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const why = body.issue && body.issue[0] ? body.issue[0].diagnostics : body.message;
      throw new Error(`not stored (${res.status}): ${why || ''}`);
    }
    show(out, h('p.note.ok#added', `Stored as ${body.resourceType}/${body.id}, encrypted, and anchored on the ledger.`));
    $('#add-text').value = '';
    $('#add-value').value = '';
    $('#add-note').value = '';
  } catch (e) {
    show(out, note('bad', e.message));
  } finally {
    btn.disabled = false;
  }
});
