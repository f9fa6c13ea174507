// Research: a study with its registered outcomes, the trial verification
// report, a researcher's (signed, logged) dataset request shown in the page,
// and a patient's research consent history. Built against the research API
// when the node has it (GET / lists its routes); otherwise the page says so.
import { layout } from '../layout.js';
import { get, hasRoute } from '../api.js';
import { keyPanel } from '../keypanel.js';
import { signedFetch } from '../httpsig.js';
import { researchConsents } from '../research.js';
import { $, action, download, h, note, show, short, when } from '../util.js';

layout();
let me = null;
let lastDataset = null;

const PHASE_WORDS = { enrolling: 'enrolling', closed: 'enrolment closed', locked: 'database locked', reported: 'results reported' };

function outcomes(list, kind) {
  return list && list.length
    ? h(`ol.outcomes#${kind}-outcomes`, list.map((o) => h('li', o.outcome,
      o.amendment ? h('span.badge.warn', ` added by amendment ${o.amendment}`) : h('span.muted', ' (pre-registered)'))))
    : h('p.muted', 'none');
}

function studyView(s) {
  return [
    h('h3#study-title', s.title),
    h('dl.kv',
      h('dt', 'Study id'), h('dd', s.id),
      h('dt', 'Registry'), h('dd', (s.identifier && s.identifier[0] && s.identifier[0].value) || '–'),
      h('dt', 'Sponsor'), h('dd', s.sponsor_name || (s.sponsor && s.sponsor.display) || '–'),
      h('dt', 'Phase'), h('dd', PHASE_WORDS[s.phase] || s.phase),
      h('dt', 'Uses'), h('dd', (s.categories || []).join(', ') || '–'),
      h('dt', 'Purpose'), h('dd', s.purpose || '–'),
      h('dt', 'Enrolled'), h('dd', String(s.enrolled)),
      h('dt', 'Amendments'), h('dd', String(s.amendments)),
      h('dt', 'Smallest group released (k)'), h('dd', String(s.k)),
      h('dt', 'Protocol SHA-256'), h('dd', h('code', short(s.protocol_sha256, 16)))),
    h('h4', 'Primary outcomes (registered)'), outcomes(s.primary_outcomes, 'primary'),
    h('h4', 'Secondary outcomes'), outcomes(s.secondary_outcomes, 'secondary'),
    s.queries && s.queries.length ? [h('h4', 'Dataset queries on the ledger'), h('ul.log#query-log', s.queries.map((q) =>
      h('li', `${when(q.recorded)}: ${q.status === 200 ? `served ${q.patients} patients, ${q.records} records` : `refused (${q.status}) ${q.reason}`} · `,
        h('a.muted', { href: `/explorer#tx=${q.tx}` }, 'ledger entry'))))] : null,
  ];
}

function reportView(r) {
  const ok = r.clean === true;
  return [
    h('h3', 'Trial verification'),
    h(`p.note.${ok ? 'ok' : 'bad'}#verify-verdict`, { 'data-clean': String(ok) },
      h('strong', ok ? 'Matches its registration. ' : 'Does NOT match its registration. '), r.verdict),
    h('dl.kv',
      h('dt', 'Phase'), h('dd', PHASE_WORDS[r.phase] || r.phase),
      h('dt', 'Subjects enrolled'), h('dd', String(r.enrolled)),
      h('dt', 'Database locked'), h('dd', r.locked ? `yes (dataset ${short(r.locked_dataset_sha256, 12)})` : 'no'),
      h('dt', 'Results posted'), h('dd', r.results_posted ? `yes (dataset ${short(r.results_dataset_sha256, 12)})` : 'no')),
    r.findings && r.findings.length
      ? h('ul.log#findings', r.findings.map((f) => h('li.refused', h('span.badge.bad', f.kind.replace(/_/g, ' ')), ' ', f.detail)))
      : h('p#no-findings', 'No findings: no outcome switching, no unregistered outcome, no changed dataset, no enrolment without consent.'),
  ];
}

async function study(id) {
  show('#study', h('p.muted', 'Fetching…'));
  show('#report');
  const s = await get(`/v1/research/study/${encodeURIComponent(id)}`);
  show('#study', studyView(s));
  if (await hasRoute('/v1/research/verify/')) {
    const r = await get(`/v1/research/verify/${encodeURIComponent(id)}`);
    show('#report', reportView(r));
  }
  toggleDataset();
}

function toggleDataset() {
  const researcher = me && me.account && me.account.role === 'researcher';
  $('#ds-go').classList.toggle('hidden', !(researcher && $('#study-id').value.trim()));
}

function datasetView(d) {
  const ds = d.dataset || {};
  const pts = ds.patients || [];
  return [
    note('ok', `Dataset received: ${pts.length} patient${pts.length === 1 ? '' : 's'}, ${d.records} record${d.records === 1 ? '' : 's'}, as of block ${d.as_of_height}` +
      `${d.suppressed_patients ? `; ${d.suppressed_patients} patients withheld in groups smaller than ${ds.k}` : ''}` +
      `${d.records_unavailable ? `; ${d.records_unavailable} records this node cannot decrypt` : ''}. This request is on the ledger.`),
    h('p.muted', `SHA-256 ${d.dataset_sha256}, committed by transaction `, h('a', { href: `/explorer#tx=${d.query_tx}` }, short(d.query_tx, 12)), '.'),
    pts.length ? h('table#dataset-table', h('thead', h('tr', h('th', 'Subject (pseudonym)'), h('th', 'Record'), h('th', 'Year'), h('th', 'Codes'))),
      h('tbody', pts.flatMap((p) => (p.records.length ? p.records : [{}]).map((r) => h('tr',
        h('td', p.subject), h('td', r.resourceType || '–'), h('td', r.year == null ? '–' : String(r.year)),
        h('td', [r.code, r.status].flat().filter(Boolean).map(String).join(' · ') || '–'))))))
      : h('p', 'No consenting patient has records in this study\'s categories on this node.'),
    h('p', h('button.secondary#ds-save', { type: 'button' }, 'Download the dataset (JSON)')),
  ];
}

async function start() {
  if (!(await hasRoute('/v1/research/'))) {
    show('#unavailable', note('info', 'This node does not offer the research API yet (studies, trial verification, dataset requests and research consents). The page will use it as soon as the node has it.'));
    return;
  }
  $('#available').classList.remove('hidden');
  keyPanel('#keys', {
    title: 'Your key',
    onKey: async (k) => {
      me = k;
      toggleDataset();
      if (k && k.account && k.account.role === 'patient') {
        try {
          const cs = await researchConsents(k.key);
          show('#consents', cs.length ? h('ul.log#my-consents', cs.map((c) => h('li',
            `${c.scope === 'study' ? 'Study' : 'Purpose'} ${c.target}, version ${c.version}: ${c.permit ? `consent to ${c.categories.join(', ')}` : 'withdrawn'}` +
            `${c.active ? ' (active)' : ''}, ${when(c.time)}.`)))
            : h('p', 'You have not given any research consent. Give or withdraw it from your patient page.'));
        } catch (e) {
          show('#consents', note('bad', e.message));
        }
      }
    },
  });
  $('#study-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = $('#study-id').value.trim();
    history.replaceState(null, '', `#study=${encodeURIComponent(id)}`);
    study(id).catch((e) => show('#study', note('bad', e.message)));
  });
  $('#study-id').addEventListener('input', toggleDataset);
  action($('#ds-go'), $('#dataset'), async () => {
    const id = $('#study-id').value.trim();
    show('#dataset', h('p.muted', 'Signing the request and waiting for the node…'));
    lastDataset = await signedFetch(me.key, `/v1/research/dataset/${encodeURIComponent(id)}`, { purpose: 'HRESCH' });
    show('#dataset', datasetView(lastDataset));
    $('#ds-save').addEventListener('click', () => download(`dataset-${id}.json`, JSON.stringify(lastDataset, null, 2)));
  });
  const m = /study=([^&]+)/.exec(location.hash);
  if (m) {
    $('#study-id').value = decodeURIComponent(m[1]);
    study($('#study-id').value).catch((e) => show('#study', note('bad', e.message)));
  }
}

start().catch((e) => show('#unavailable', note('bad', e.message)));
