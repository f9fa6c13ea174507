// Auditor view: the organisation's break-glass review queue (closing an
// access is a signed record_review transaction), each with the record's
// kind and the clinician's other accesses to that patient; and the access
// log, filtered and paged by the node (GET /v1/access, signed).
import { layout } from '../layout.js';
import { keyPanel } from '../keypanel.js';
import { signedFetch } from '../httpsig.js';
import { TX, submit } from '../tx.js';
import { Writer } from '../codec.js';
import { PURPOSE_WORDS, TYPE_WORDS, whoIs } from '../records.js';
import { directoryPicker } from '../directory.js';
import { $, action, h, note, short, show, unhex, when } from '../util.js';

layout();
let me = null;

keyPanel('#keys', {
  title: 'Your key',
  onKey: async (k) => {
    me = k;
    const ok = k && k.account && k.account.role === 'auditor' && k.account.status === 'active';
    $('#work').classList.toggle('hidden', !ok);
    if (ok) await Promise.all([queue(), log()]);
  },
});

const ACTIONS = { read: 'read', vread: 'read a version of', search: 'searched', export: 'exported', audit: 'audited', create: 'added' };

function otherLine(o) {
  const what = o.record_type ? (TYPE_WORDS[o.record_type] || o.record_type) : 'the records';
  return h(`li${o.outcome === 'refused' ? '.refused' : ''}`, `${when(o.time)}: ${ACTIONS[o.action] || o.action} ${what}`,
    o.purpose ? ` (${PURPOSE_WORDS[o.purpose] || o.purpose})` : '', o.outcome === 'refused' ? h('strong', ' — refused') : '');
}

async function queue() {
  const out = $('#queue');
  try {
    const b = await signedFetch(me.key, '/v1/breakglass');
    const items = b.break_glass || [];
    const open = items.filter((x) => x.open);
    const closed = items.filter((x) => !x.open);
    const rows = await Promise.all(open.map(async (x) => {
      const noteIn = h('input', { type: 'text', 'aria-label': 'Review note', placeholder: 'Finding (e.g. justified: unconscious patient)', maxlength: 200 });
      const btn = h('button', { type: 'button' }, 'Close with this finding');
      // Errors of this one review are shown here, never in place of the queue.
      const msg = h('div.review-msg', { 'aria-live': 'polite' });
      const who = x.requester_name || await whoIs(x.requester);
      const kind = x.record_type ? (TYPE_WORDS[x.record_type] || x.record_type) : 'a search of the records';
      const li = h('li.btg', h('span.badge.warn', 'OPEN'), ' ',
        `${who} opened ${kind}${x.record ? ` (record ${x.record})` : ''} of patient ${short(x.patient)} on ${when(x.time)}. Reason given: "${x.reason}". `,
        h('details.others', h('summary', x.other_access_count
          ? `${x.other_access_count} other accesses by ${who} to this patient` : `No other access by ${who} to this patient`),
        x.other_accesses && x.other_accesses.length ? h('ul.log', x.other_accesses.map(otherLine)) : null),
        noteIn, btn, msg);
      action(btn, msg, async () => {
        const text = noteIn.value.trim();
        if (!text) throw new Error('Write the finding first: the review is closed with it.');
        show(msg, h('p.muted', 'Signing the review…'));
        await submit(me.key, TX.record_review, new Writer().fixed(unhex(x.access_tx), 32).str8(text).bytes());
        await queue();
      });
      return li;
    }));
    show(out,
      open.length ? h('ul.log#bg-open', rows) : h('p#bg-none', 'Nothing to review.'),
      closed.length ? h('details', h('summary', `${closed.length} reviewed`), h('ul.log#bg-closed', await Promise.all(closed.map(async (x) =>
        h('li', `${x.requester_name || await whoIs(x.requester)} on ${when(x.time)}: "${x.reason}". Finding: ${x.note}`))))) : null);
  } catch (e) {
    show(out, note('bad', e.message));
  }
}

// --- the access log, filtered and paged by the node ---

let pages = [''];   // cursors of the pages seen (the first has none)
let page = 0;

directoryPicker({
  input: $('#f-member-find'), list: $('#f-member-found'), chosen: $('#f-member-chosen'),
  onPick: (m) => { $('#f-member').value = m.key; },
});

function filterQuery() {
  const q = new URLSearchParams();
  q.set('kind', $('#f-kind').value);
  if ($('#f-mine').checked && me.account.org) q.set('org', String(me.account.org));
  if ($('#f-member').value) q.set('member', $('#f-member').value);
  const p = $('#f-patient').value.trim().toLowerCase();
  if (p) {
    if (!/^[0-9a-f]{64}$/.test(p)) throw new Error('a patient is named by her key: 64 hex digits');
    q.set('patient', p);
  }
  if ($('#f-from').value) q.set('from', String(new Date(`${$('#f-from').value}T00:00:00`).getTime()));
  if ($('#f-to').value) q.set('to', String(new Date(`${$('#f-to').value}T23:59:59.999`).getTime() + 1));
  q.set('limit', '25');
  return q;
}

const OUTCOME = { allowed: 'allowed', refused: 'refused', security: 'refused (security)' };

async function log() {
  const out = $('#log');
  try {
    const q = filterQuery();
    if (pages[page]) q.set('before', pages[page]);
    const b = await signedFetch(me.key, `/v1/access?${q}`);
    const rows = b.entries.map((e) => h(`tr${e.kind === 'break_glass' ? '.btg' : ''}${e.outcome !== 'allowed' ? '.refused' : ''}`,
      { 'data-kind': e.kind },
      h('td', when(e.time_ms)),
      h('td', e.requester_name ? `${e.requester_name}${e.requester_org_name ? `, ${e.requester_org_name}` : ''}` : short(e.requester)),
      h('td', `${ACTIONS[e.action] || e.action}${e.record_type ? ` ${TYPE_WORDS[e.record_type] || e.record_type}` : ''}`),
      h('td', PURPOSE_WORDS[e.purpose] || e.purpose || '–'),
      h('td', e.outcome === 'allowed' ? 'allowed' : h('strong', `${OUTCOME[e.outcome] || e.outcome}: ${e.reason}`)),
      h('td.mono', short(e.patient))));
    pages = pages.slice(0, page + 1);
    if (b.next_before) pages.push(b.next_before);
    $('#log-older').disabled = !b.next_before;
    $('#log-newer').disabled = page === 0;
    show(out, rows.length
      ? [h('p.muted#log-count', `${b.matched} matching entries; page ${page + 1}.`),
        h('table#audit-table', h('thead', h('tr', h('th', 'When'), h('th', 'Who'), h('th', 'What'),
          h('th', 'Purpose'), h('th', 'Outcome'), h('th', 'Patient'))), h('tbody', rows))]
      : h('p#log-none', 'No access matches these filters.'));
  } catch (e) {
    show(out, note('bad', e.message));
  }
}

$('#log-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  pages = [''];
  page = 0;
  log();
});
$('#log-clear').addEventListener('click', () => {
  $('#log-form').reset();
  $('#f-member').value = '';
  show('#f-member-chosen');
  pages = [''];
  page = 0;
  log();
});
action($('#log-older'), $('#log'), async () => { page++; await log(); });
action($('#log-newer'), $('#log'), async () => { page = Math.max(0, page - 1); await log(); });
action($('#refresh'), $('#log'), async () => { await queue(); await log(); });
