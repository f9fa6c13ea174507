// Patient portal: records (decrypted in the page; a summary, then a
// timeline by visit, fhirview.js), the access
// log in plain words, grants and revocations (signed transactions with data
// keys resealed in the page), export, erasure, research consents.
import { layout } from '../layout.js';
import { account, get, hasRoute, orgs } from '../api.js';
import { acceptInvitation, matchCode, normalizeCode, showInvitation } from '../invite.js';
import { keyPanel } from '../keypanel.js';
import { TX, submit } from '../tx.js';
import { Writer } from '../codec.js';
import { CATEGORIES, TYPE_WORDS, accessLog, consents, describeAccess, everything, grantPayload, openListing,
  orgNodeKeys, recordList, whoIs } from '../records.js';
import { directoryPicker } from '../directory.js';
import { jsonDetails, summaryView, timelineView, title } from '../fhirview.js';
import { consentPayload, nextConsentVersion, researchConsents, CONSENT_PERMIT, CONSENT_WITHDRAW } from '../research.js';
import { $, action, download, h, note, show, unhex, when } from '../util.js';

layout();
let me = null;
let list = { records: [], batches: {} };
const typeOf = new Map();

// An invitation from a clinician (#invite=CODE in the address, or typed).
let inviteCode = normalizeCode(new URLSearchParams(location.hash.slice(1)).get('invite'));

async function enter(k) {
  me = k;
  $('#portal').classList.add('hidden');
  $('#unregistered').classList.add('hidden');
  if (!k) return;
  if (!k.account || k.account.role !== 'patient') {
    $('#unregistered').classList.remove('hidden');
    if (k.account) {
      show('#unregistered', note('warn', `This key belongs to a ${k.account.role}, not a patient.`));
      return;
    }
    await onboarding(k);
    return;
  }
  $('#portal').classList.remove('hidden');
  $('#my-code').src = `/v1/account/${k.key.pkHex}/qr.svg`;
  await Promise.all([loadRecords(), loadGrants(), research()]);
  await loadLog();
}

keyPanel('#keys', { title: 'Your key', allowCreate: true, onKey: enter });

// A key the ledger does not know yet: join by the clinician's invitation.
// Her consent is signed here with her key; the clinician registers her.
async function onboarding(k) {
  const out = $('#unregistered');
  const codeIn = h('input#invite-code', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: inviteCode || '' });
  const look = h('button#invite-look', { type: 'submit' }, 'Use this invitation');
  const msg = h('div#invite-msg', { 'aria-live': 'polite' });
  const form = h('form#invite-form.card', h('h2', 'Join with your clinician\'s invitation'),
    h('p', 'This key is new to the ledger. Your clinician gives you an invitation code (or a link); with it you join here, and your key never leaves this browser.'),
    h('label', { for: 'invite-code' }, 'Invitation code (like ABCD-EFGH-JKMN)'), codeIn, look, msg);
  show(out, form);
  const lookUp = async () => {
    const code = normalizeCode(codeIn.value);
    if (!code) throw new Error('An invitation code has 12 letters and digits, like ABCD-EFGH-JKMN.');
    inviteCode = code;
    const inv = await showInvitation(code);
    if (inv.for === 'member') {
      show(msg, h('div.note.warn#invite-staff', h('p', 'This invitation is for a new member of staff, not a patient. '),
        h('a', { href: `/join#invite=${code}` }, 'Open it on the page for joining an organisation')));
      return;
    }
    const who = `${inv.inviter_name || 'A clinician'}${inv.org_name ? ` at ${inv.org_name}` : ''}`;
    const yes = h('button#invite-accept', { type: 'button' }, `Join: let ${inv.inviter_name || 'them'} register me`);
    show(msg, h('div.note.info', h('p#invite-who', `${who} invites you to keep your health records here.`),
      h('p', 'Joining signs your consent to be registered by them, with your key, here. Save your key on this device first (above) so you can come back.'), yes));
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await acceptInvitation(k.key, code, inv.inviter);
        const m = await matchCode(k.key.pkHex);
        show(msg, h('div.note.ok', h('p', `Accepted. Tell ${inv.inviter_name || 'your clinician'} this number so they can check it is you:`),
          h('p.big.mono#invite-match', `${m.slice(0, 3)} ${m.slice(3)}`),
          h('p.muted#invite-wait', 'Waiting for them to register you… this page opens your records by itself.')));
        for (let i = 0; i < 600; i++) {
          await new Promise((r) => setTimeout(r, 1500));
          const a = await account(k.key.pkHex).catch(() => null);
          if (a && a.role === 'patient') {
            await enter({ ...k, account: a });
            return;
          }
        }
      } catch (e) {
        show(msg, note('bad', e.message));
      } finally {
        yes.disabled = false;
      }
    });
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    lookUp().catch((e) => show(msg, note('bad', e.message)));
  });
  if (inviteCode) await lookUp().catch((e) => show(msg, note('bad', e.message)));
  else show(msg, h('p.muted', `No invitation? Your clinician can also register this key: ${k.key.pkHex} (it reveals nothing about you).`));
}

async function loadRecords() {
  const out = $('#records');
  show(out, h('p.muted', 'Opening your records in this browser…'));
  try {
    // One signed request brings the list and every record's ciphertext
    // (records.js openListing), logged as one access entry naming them all;
    // each is opened here with your key: the node never decrypts it for you.
    const visit = await openListing(me.key);
    list = visit.list;
    for (const r of list.records) typeOf.set(r.id, r.type);
    const live = list.records.filter((r) => !r.erased);
    const erased = list.records.filter((r) => r.erased);
    if (!live.length && !erased.length) {
      show('#summary', h('p', 'No records about you yet.'));
      show(out, h('p', 'No records about you yet.'));
      return;
    }
    const opened = visit.opened;
    const good = opened.filter((o) => !o.error);
    // A summary first, then every record on a timeline grouped by visit and
    // sorted by the date it is about (fhirview.js), each in words with its
    // FHIR JSON one click away.
    show('#summary', summaryView(good.map((o) => o.resource)));
    const items = good.map((o) => ({ resource: o.resource, version: o.version, hash: o.ciphertextHash }));
    show(out, h('div#record-list',
      opened.filter((o) => o.error).length ? h('ul.log#not-opened', opened.filter((o) => o.error).map((o) =>
        h('li.refused', h('span.badge.bad', 'not opened'), ` ${TYPE_WORDS[o.type] || o.type} ${o.id}: ${o.error}`))) : null,
      timelineView(items, {
        before: (it) => h('label.inline.erase-pick', h('input', { type: 'checkbox', name: 'erase', value: it.resource.id,
          'data-type': it.resource.resourceType, 'aria-label': `Select for erasing: ${title(it.resource)}` }), h('span.muted', 'select')),
        after: (it) => jsonDetails(it.resource, 'Show the record (decrypted in this browser)',
          h('p.muted', `Version ${it.version}. Ciphertext SHA-256 ${it.hash.slice(0, 16)}… matches the ledger's anchor.`)),
      }),
      erased.length ? h('ul.log#erased-list', erased.map((r) => h('li.muted', `An erased record (${TYPE_WORDS[r.type] || r.type}); its contents are gone.`))) : null),
      h('p.muted#decrypt-note', `${good.length} records decrypted in this browser with your key; ` +
      'the node sent only ciphertext, each encrypted under its own key, and the ledger holds only their fingerprints.'));
  } catch (e) {
    show(out, note('bad', e.message));
  }
}

async function loadLog() {
  const out = $('#log');
  try {
    const b = await accessLog(me.key, me.key.pkHex);
    const evs = (b.entry || []).map((e) => e.resource);
    evs.sort((a, c) => (a.recorded < c.recorded ? 1 : -1));
    const items = await Promise.all(evs.map((ev) => describeAccess(ev, me.key.pkHex, (id) => typeOf.get(id))));
    const others = items.filter((i) => i.who !== me.key.pkHex);
    const mine = items.length - others.length;
    show(out, others.length ? h('ul.log#access-log', others.map((i) => h(`li${i.btg ? '.btg' : ''}${i.ok ? '' : '.refused'}`,
      i.btg ? h('span.badge.warn', 'EMERGENCY') : null, i.ok ? null : h('span.badge.bad', 'refused'), ' ', i.sentence, ' ',
      h('a.muted', { href: `/explorer#tx=${i.tx}`, 'aria-label': 'ledger entry' }, 'ledger entry'))))
      : h('p', 'Nobody else has looked at your records.'),
    mine ? h('p.muted', `Your own ${mine} views are logged too.`) : null);
  } catch (e) {
    show(out, note('bad', e.message));
  }
}

// provision.actor[0].reference.identifier per FHIR R4; the node currently
// nests it as provision.actor.reference[0].identifier (reported), so both
// shapes are read.
function consentActor(c) {
  const a = Array.isArray(c.provision.actor) ? c.provision.actor[0] : c.provision.actor;
  const r = Array.isArray(a.reference) ? a.reference[0] : a.reference;
  return r.identifier;
}

async function loadGrants() {
  const out = $('#grants');
  try {
    const b = await consents(me.key);
    const cs = (b.entry || []).map((e) => e.resource);
    const active = cs.filter((c) => c.status === 'active');
    if (!active.length) {
      show(out, h('p', 'Only you, the clinicians who wrote your records, and emergency access can read them.'));
      return;
    }
    const rows = await Promise.all(active.map(async (c) => {
      const actor = consentActor(c);
      const who = actor.system === 'urn:medchain:org' ? `Everyone treating you at ${(await orgs()).find((o) => String(o.id) === actor.value)?.name || `organisation ${actor.value}`}`
        : await whoIs(actor.value, me.key.pkHex);
      const what = (c.provision.class || []).map((x) => CATEGORIES.find((k) => k[1] === x.code)?.[2] || x.code).join(', ');
      const until = c.provision.period && c.provision.period.end ? ` until ${when(c.provision.period.end)}` : '';
      const btn = h('button.danger', { type: 'button', 'data-grant': c.id }, 'Revoke');
      action(btn, out, async () => {
        const t = await submit(me.key, TX.record_revoke, new Writer().fixed(unhex(c.id), 32).bytes());
        show('#grant-msg', note('ok', `Access revoked (block ${t.height}).`));
        await loadGrants();
      });
      return h('li', h('strong', who), ` may read: ${what}${until}. `, btn);
    }));
    show(out, h('ul.log#grant-list', rows));
  } catch (e) {
    show(out, note('bad', e.message));
  }
}

// Research consents: research_consent transactions (type 91) built and
// signed here, the version being the next after the latest on the ledger
// for that study or purpose (from GET /v1/research/consents).
let consentHistory = [];
async function research() {
  const out = $('#research');
  if (!(await hasRoute('/v1/research/'))) {
    show(out, h('p.muted', 'This node does not offer research consent yet.'));
    $('#consent-form').classList.add('hidden');
    return;
  }
  try {
    consentHistory = await researchConsents(me.key);
    const rows = consentHistory.slice().sort((a, b) => (a.time < b.time ? 1 : -1));
    show(out, rows.length ? h('ul.log#consent-list', rows.map((c) => h(`li${c.active ? '.active' : ''}`,
      { 'data-target': c.target, 'data-version': String(c.version) },
      h(`span.badge.${c.permit ? (c.active ? 'ok' : 'info') : 'warn'}`, c.permit ? (c.active ? 'consent active' : 'consent (not active)') : 'withdrawn'),
      ` ${c.scope === 'study' ? 'Study' : 'Research purpose'} ${c.target}: version ${c.version}, ${c.permit ? `your ${c.categories.join(', ')}` : 'no data'}` +
      `${c.end ? ` until ${when(c.end)}` : ''}, on ${when(c.time)}.`)))
      : h('p', 'You have not given any research consent.'),
    h('p', h('a', { href: '/research' }, 'See a study and its verification')));
  } catch (e) {
    show(out, note('bad', e.message));
  }
}

async function consentAction(act) {
  const scope = Number($('#consent-scope').value);
  const target = $('#consent-target').value.trim();
  if (!/^[A-Za-z0-9.-]{1,64}$/.test(target)) throw new Error('a study id or purpose is 1-64 letters, digits, dots or dashes');
  const categories = act === CONSENT_PERMIT
    ? [...document.querySelectorAll('#consent-cats input:checked')].reduce((a, c) => a | Number(c.value), 0) : 0;
  if (act === CONSENT_PERMIT && !categories) throw new Error('tick at least one kind of record');
  consentHistory = await researchConsents(me.key);
  const version = nextConsentVersion(consentHistory, scope, target);
  const t = await submit(me.key, TX.research_consent, consentPayload({ scope, target, version, action: act, categories }));
  show('#consent-msg', h('p.note.ok#consent-done', act === CONSENT_PERMIT
    ? `Consent given (version ${version}, block ${t.height}).` : `Consent withdrawn (version ${version}, block ${t.height}).`));
  await research();
}
show('#consent-cats', h('legend', 'What researchers may use (de-identified)'), CATEGORIES.map(([bit, name, words]) =>
  h('label.inline', h('input', { type: 'checkbox', id: `rc-${name}`, value: String(bit) }), words)));
action($('#consent-go'), $('#consent-msg'), () => consentAction(CONSENT_PERMIT));
action($('#withdraw-go'), $('#consent-msg'), () => consentAction(CONSENT_WITHDRAW));

// --- grant form ---
show('#cats', h('legend', 'What they may read'), CATEGORIES.map(([bit, name, words]) =>
  h('label.inline', h('input', { type: 'checkbox', id: `cat-${name}`, value: String(bit) }), words)));
orgs().then((l) => show('#grant-org', l.map((o) => h('option', { value: o.id }, `${o.name} (${o.kind})`))));
for (const r of document.querySelectorAll('input[name=kind]')) {
  r.addEventListener('change', () => {
    const m = $('#kind-member').checked;
    $('#g-member').classList.toggle('hidden', !m);
    $('#g-org').classList.toggle('hidden', m);
  });
}

// The grantee is picked by name from the members' directory (clinicians
// first: the people a patient shares with); the key field is filled from it.
directoryPicker({
  input: $('#grant-find'), list: $('#grant-found'), chosen: $('#grant-chosen'),
  onPick: (m) => { $('#grant-member').value = m.key; },
});

$('#grant-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const btn = $('#grant-go');
  btn.disabled = true;
  try {
    const categories = [...document.querySelectorAll('#cats input:checked')].reduce((a, c) => a | Number(c.value), 0);
    if (!categories) throw new Error('tick at least one kind of record');
    const exp = $('#grant-expiry').value;
    const expiryMs = exp ? new Date(`${exp}T23:59:59`).getTime() : 0;
    let kind, member, org, recipients;
    if ($('#kind-member').checked) {
      const k = $('#grant-member').value.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(k)) throw new Error('find the person by name first (or paste their 64-digit key)');
      const acct = await get(`/v1/account/${k}`).catch(() => null);
      if (!acct || !acct.org) throw new Error('this key is not a member of any organisation');
      kind = 1; member = unhex(k); org = 0;
      recipients = [member, ...(await orgNodeKeys(acct.org))];
    } else {
      kind = 2; org = Number($('#grant-org').value);
      recipients = await orgNodeKeys(org);
    }
    show('#grant-msg', h('p.muted', 'Sealing the keys of your records to them and signing…'));
    list = await recordList(me.key);
    const { payload, keys } = await grantPayload(me.key, list, { kind, member, org, categories, expiryMs, recipients });
    const t = await submit(me.key, TX.record_grant, payload);
    show('#grant-msg', h('p.note.ok#grant-done', `Access given (block ${t.height}); ${keys} record keys sealed to them in your browser.`));
    await loadGrants();
  } catch (e) {
    show('#grant-msg', note('bad', e.message));
  } finally {
    btn.disabled = false;
  }
});

action($('#refresh-records'), $('#records'), loadRecords);
action($('#refresh-log'), $('#log'), loadLog);
action($('#export'), $('#records'), async () => {
  const b = await everything(me.key);
  download(`medchain-records-${me.key.pkHex.slice(0, 8)}.json`, JSON.stringify(b, null, 2), 'application/fhir+json');
});

// --- erasure ---
function ticked() { return [...document.querySelectorAll('#record-list input[name=erase]:checked')].map((c) => c.value); }
$('#erase-start').addEventListener('click', () => {
  const ids = ticked();
  if (!ids.length) { show('#erase-msg', note('warn', 'Tick the records to erase first.')); return; }
  $('#erase-q').textContent = `Erase ${ids.length} record${ids.length > 1 ? 's' : ''} for good? Nobody, not even you, will be able to read ${ids.length > 1 ? 'them' : 'it'} again.`;
  $('#erase-confirm').classList.remove('hidden');
  $('#erase-word').focus();
});
$('#erase-cancel').addEventListener('click', () => $('#erase-confirm').classList.add('hidden'));
action($('#erase-go'), $('#erase-msg'), async () => {
  if ($('#erase-word').value.trim() !== 'ERASE') throw new Error('type ERASE to confirm');
  const ids = ticked();
  const w = new Writer().u16(ids.length);
  for (const id of ids) w.str8(id);
  const t = await submit(me.key, TX.record_erase, w.bytes());
  $('#erase-confirm').classList.add('hidden');
  $('#erase-word').value = '';
  show('#erase-msg', note('ok', `Erased (block ${t.height}). The contents are being purged.`));
  await loadRecords();
});
$('#consent-form').addEventListener('submit', (ev) => ev.preventDefault());
