// Auditor view: the organisation's break-glass review queue (closing an
// access is a signed record_review transaction) and the access log.
import { layout } from '../layout.js';
import { account } from '../api.js';
import { keyPanel } from '../keypanel.js';
import { signedFetch } from '../httpsig.js';
import { TX, submit } from '../tx.js';
import { Writer } from '../codec.js';
import { PURPOSE_WORDS, whoIs } from '../records.js';
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
      const li = h('li.btg', h('span.badge.warn', 'OPEN'), ' ',
        `${await whoIs(x.requester)} opened record ${x.record || '(search)'} of patient ${short(x.patient)} on ${when(x.time)}. Reason given: "${x.reason}". `,
        h('br'), noteIn, btn);
      action(btn, out, async () => {
        const text = noteIn.value.trim();
        if (!text) throw new Error('write the finding first');
        await submit(me.key, TX.record_review, new Writer().fixed(unhex(x.access_tx), 32).str8(text).bytes());
        await queue();
      });
      return li;
    }));
    show(out,
      open.length ? h('ul.log#bg-open', rows) : h('p#bg-none', 'Nothing to review.'),
      closed.length ? h('details', h('summary', `${closed.length} reviewed`), h('ul.log#bg-closed', await Promise.all(closed.map(async (x) =>
        h('li', `${await whoIs(x.requester)} on ${when(x.time)}: "${x.reason}". Finding: ${x.note}`))))) : null);
  } catch (e) {
    show(out, note('bad', e.message));
  }
}

async function log() {
  const out = $('#log');
  try {
    const b = await signedFetch(me.key, '/fhir/AuditEvent');
    const evs = (b.entry || []).map((e) => e.resource).sort((a, c) => (a.recorded < c.recorded ? 1 : -1)).slice(0, 200);
    const mine = me.account.org;
    const rows = [];
    for (const ev of evs) {
      const agent = ev.agent[0];
      const who = agent.who.identifier.value;
      const a = await account(who).catch(() => null);
      if (!a || a.org !== mine) continue;
      const purpose = agent.purposeOfUse[0].coding[0].code;
      rows.push(h(`tr${purpose === 'BTG' ? '.btg' : ''}`,
        h('td', when(ev.recorded)), h('td', await whoIs(who)), h('td', ev.subtype[0].code),
        h('td', PURPOSE_WORDS[purpose] || purpose), h('td', ev.outcome === '0' ? 'allowed' : h('strong', `refused: ${ev.outcomeDesc}`)),
        h('td.mono', short(ev.entity[1] ? ev.entity[1].what.reference.replace('Patient/', '') : ''))));
    }
    show(out, rows.length ? h('table#audit-table', h('thead', h('tr', h('th', 'When'), h('th', 'Who'), h('th', 'Action'),
      h('th', 'Purpose'), h('th', 'Outcome'), h('th', 'Patient'))), h('tbody', rows)) : h('p', 'No accesses yet.'));
  } catch (e) {
    show(out, note('bad', e.message));
  }
}

action($('#refresh'), $('#log'), async () => { await queue(); await log(); });
