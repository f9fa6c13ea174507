// Research: a study with its registered outcomes, the trial verification
// report, a researcher's (signed, logged) dataset request and a patient's
// research consent history. Built against the research API when the node
// has it (GET / lists its routes); otherwise the page says so.
import { layout } from '../layout.js';
import { get, hasRoute } from '../api.js';
import { keyPanel } from '../keypanel.js';
import { signedFetch } from '../httpsig.js';
import { $, action, download, h, note, show, when } from '../util.js';

layout();
let me = null;

// A JSON object as a definition list, nested objects as their own lists.
function view(o, depth = 0) {
  if (o === null || o === undefined) return h('span.muted', '–');
  if (Array.isArray(o)) {
    if (!o.length) return h('span.muted', 'none');
    return h('ol', o.slice(0, 100).map((x) => h('li', view(x, depth + 1))));
  }
  if (typeof o !== 'object') return /_ms$/.test(String(o)) ? when(o) : String(o);
  if (depth > 3) return h('code', JSON.stringify(o));
  return h('dl.kv', Object.entries(o).map(([k, v]) => [h('dt', k.replace(/_/g, ' ')),
    h('dd', /(_ms|time)$/.test(k) && typeof v === 'number' ? when(v) : view(v, depth + 1))]));
}

async function study(id) {
  show('#study', h('p.muted', 'Fetching…'));
  const s = await get(`/v1/research/study/${encodeURIComponent(id)}`);
  show('#study', h('h3', 'Registered study'), view(s));
  if (await hasRoute('/v1/research/verify/')) {
    const r = await get(`/v1/research/verify/${encodeURIComponent(id)}`);
    const ok = r.ok === true || r.verdict === 'ok' || r.passed === true;
    const bad = r.ok === false || r.passed === false;
    show('#report', h('h3', 'Trial verification'),
      ok ? note('ok', 'The trial matches its registration: no outcome switching, no changed data, no enrolment without consent.')
        : bad ? note('bad', 'The trial does NOT match its registration; see the findings below.') : null,
      view(r));
  }
  $('#ds-go').classList.toggle('hidden', !(me && me.account && me.account.role === 'researcher'));
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
      $('#ds-go').classList.toggle('hidden', !(k && k.account && k.account.role === 'researcher' && $('#study-id').value));
      if (k && k.account && k.account.role === 'patient') {
        try {
          const b = await signedFetch(k.key, `/v1/research/consents?patient=${k.key.pkHex}`);
          const cs = (b.entry || []).map((e) => e.resource);
          show('#consents', cs.length ? view(cs) : h('p', 'You have not given any research consent.'));
        } catch (e) {
          show('#consents', note('bad', e.message));
        }
      }
    },
  });
  $('#study-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    study($('#study-id').value.trim()).catch((e) => show('#study', note('bad', e.message)));
  });
  action($('#ds-go'), $('#dataset'), async () => {
    const id = $('#study-id').value.trim();
    const d = await signedFetch(me.key, `/v1/research/dataset/${encodeURIComponent(id)}`, { purpose: 'HRESCH' });
    show('#dataset', note('ok', 'Dataset received; this request is on the ledger.'));
    download(`dataset-${id}.json`, JSON.stringify(d, null, 2));
  });
}

start().catch((e) => show('#unavailable', note('bad', e.message)));
