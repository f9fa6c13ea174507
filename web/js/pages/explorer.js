// Explorer: the node's verify report, blocks (paged older/newer, empty
// ones hidden on request), validators, a search by height, block hash or
// transaction id, and a transaction with its inclusion proof checked in the
// browser. Times are relative ("5 minutes ago") with the clock time and the
// reader's time zone named. Only the routes of docs/API.md are used: a
// block hash is found by walking /v1/blocks back from the newest.
import { layout } from '../layout.js';
import { account, get, orgName, status } from '../api.js';
import { checkInclusion } from '../proofcheck.js';
import { decodeHeader } from '../header.js';
import { $, action, h, note, short, show, when } from '../util.js';

layout();

async function verifyStatus() {
  const out = $('#verify');
  try {
    const v = await get('/v1/verify');
    const age = v.cached ? ` (result of a check made ${when(v.checked_at_ms)}; a new one can run every ${v.interval_s} s)` : '';
    if (v.ok) {
      show(out, h('p.note.ok', { id: 'verify-verdict', 'data-ok': 'true' },
        h('strong', 'Intact. '),
        `The node re-checked every block, signature, certificate, Merkle root and state row from genesis: ` +
        `${v.heights_checked} blocks, ${v.txs_checked} transactions, ${v.state_rows_checked} state rows, in ${v.duration_ms} ms${age}.`));
    } else {
      show(out, h('p.note.bad', { id: 'verify-verdict', 'data-ok': 'false', role: 'alert' },
        h('strong', 'Verification FAILED. '),
        `At height ${v.bad_height}, ${v.object || 'an object'}: ${v.detail || 'mismatch'}${age}.`));
    }
  } catch (e) {
    show(out, note('warn', `The node could not run its verification: ${e.message}`));
  }
}

async function nodeStatus() {
  const s = await status(true);
  show('#status', h('dl.kv',
    h('dt', 'Chain'), h('dd', s.chain_id),
    h('dt', 'Height'), h('dd', String(s.height)),
    h('dt', 'Latest block'), h('dd.mono', s.latest_block_hash),
    h('dt', 'Block time'), h('dd', when(s.latest_block_time_ms)),
    h('dt', 'Transactions'), h('dd', `${s.txs_committed} committed, ${s.mempool_size} waiting`),
    h('dt', 'Ledger log'), h('dd', h('span', `${s.log_size} entries, root `), h('span.mono', s.log_root)),
    h('dt', 'This node'), h('dd', `${s.is_validator ? 'a validator' : 'not a validator'}, ${s.peers} peers`)));
}

// ---- times -------------------------------------------------------------

const ZONE = (() => {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  const off = -new Date().getTimezoneOffset();
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
  const mm = String(Math.abs(off) % 60).padStart(2, '0');
  return `${tz}, UTC${off < 0 ? '−' : '+'}${hh}:${mm}`;
})();

// "5 minutes ago" (or "in 2 seconds" for a clock slightly ahead).
export function relative(ms, now = Date.now()) {
  const d = Math.round((now - Number(ms)) / 1000);
  const a = Math.abs(d);
  const [n, unit] = a < 60 ? [a, 'second'] : a < 3600 ? [Math.floor(a / 60), 'minute'] : a < 86400 ? [Math.floor(a / 3600), 'hour']
    : [Math.floor(a / 86400), 'day'];
  const words = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return a < 5 ? 'just now' : d >= 0 ? `${words} ago` : `in ${words}`;
}

function timeCell(ms) {
  return h('time', { datetime: new Date(Number(ms)).toISOString(), title: `${when(ms)} (${ZONE})` },
    h('span.rel', relative(ms)), h('br'), h('span.muted', when(ms)));
}

// ---- blocks, paged -----------------------------------------------------

const PAGE = 15;
const SCAN_MAX = 2000; // blocks walked back at most to fill one page of non-empty ones
let pageTop = null; // height of the newest block on the page; null = the latest
let latestHeight = 0;

// Headers from..to (ascending from the node), newest first.
async function headers(from, to) {
  const out = [];
  for (let lo = Math.max(1, from); lo <= to; lo += 100) {
    const n = Math.min(100, to - lo + 1);
    const b = await get(`/v1/blocks?from=${lo}&limit=${n}`);
    latestHeight = b.latest;
    out.push(...b.blocks);
  }
  return out.reverse();
}

// One page: PAGE blocks at or below top, newest first; with hideEmpty,
// PAGE blocks that carry transactions (walking back at most SCAN_MAX).
async function blockPage(top, hideEmpty) {
  const rows = [];
  let h = top;
  let scanned = 0;
  while (h >= 1 && rows.length < PAGE && scanned < (hideEmpty ? SCAN_MAX : PAGE)) {
    const n = hideEmpty ? Math.min(100, h) : Math.min(PAGE - rows.length, h);
    const got = await headers(h - n + 1, h);
    scanned += got.length;
    for (const x of got) if ((!hideEmpty || x.tx_count > 0) && rows.length < PAGE) rows.push(x);
    h = rows.length === PAGE ? rows[rows.length - 1].height - 1 : h - n;
  }
  return { rows, next: h, scannedTo: h + 1 };
}

async function blocks() {
  const hide = $('#hide-empty').checked;
  const s = await get('/v1/blocks?limit=1');
  const latest = s.latest;
  const top = pageTop === null ? latest : Math.min(pageTop, latest);
  const { rows, next, scannedTo } = await blockPage(top, hide);
  latestHeight = latest;
  const newestShown = top >= latest;
  $('#blocks-newer').disabled = newestShown;
  $('#blocks-latest').disabled = newestShown;
  $('#blocks-older').disabled = next < 1;
  $('#blocks-older').dataset.next = String(next);
  const span = rows.length ? `heights ${rows[0].height} to ${rows[rows.length - 1].height}` : 'no blocks';
  show('#blocks-where', `Showing ${span} of ${latestHeight}${hide ? ', blocks without transactions hidden' : ''}.` +
    (hide && rows.length < PAGE && next >= 1 ? ` Searched back to height ${scannedTo}; "Older" searches further.` : ''));
  show('#blocks', rows.length ? h('table.stack#blocks-table',
    h('caption.muted', `Newest first. Times in your time zone (${ZONE}).`),
    h('thead', h('tr', h('th', { scope: 'col' }, 'Height'), h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Transactions'), h('th', { scope: 'col' }, 'Hash'))),
    h('tbody', rows.map((x) => h('tr', { 'data-height': String(x.height), 'data-txs': String(x.tx_count) },
      h('td', { 'data-label': 'Height' }, h('a', { href: `#block=${x.height}` }, String(x.height))),
      h('td', { 'data-label': 'Time' }, timeCell(x.time_ms)),
      h('td', { 'data-label': 'Transactions' }, x.tx_count ? String(x.tx_count) : h('span.muted', '0 (empty)')),
      h('td.mono', { 'data-label': 'Hash' }, short(x.hash, 10))))))
    : h('p', hide ? 'No block with transactions in this range.' : 'No blocks yet.'));
}

function pageTo(top) {
  pageTop = top;
  return blocks();
}

async function validators() {
  const [v, latest] = await Promise.all([get('/v1/validators'), get('/v1/block/latest').catch(() => null)]);
  const signed = new Set(((latest && latest.commit && latest.commit.signatures) || []).map((s) => s.validator));
  show('#validators', h('table.stack#validators-table',
    h('caption.muted', `Total voting power ${v.total_power}; a block is final with more than two thirds.`),
    h('thead', h('tr', ['Validator', 'Organisation', 'Power', 'Latest block', 'Node key'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', v.validators.map((x) => h('tr',
      h('td', { 'data-label': 'Validator' }, x.name), h('td', { 'data-label': 'Organisation' }, x.org_name || String(x.org)),
      h('td', { 'data-label': 'Power' }, String(x.power)),
      h('td', { 'data-label': 'Latest block' }, latest ? (signed.has(x.index) ? h('span.badge.ok', 'signed') : h('span.badge.warn', 'no signature')) : '–'),
      h('td.mono', { 'data-label': 'Node key' }, short(x.node_key, 10)))))));
}

async function showBlock(height) {
  const out = $('#block');
  const b = await get(`/v1/block/${height}`);
  const hdr = await decodeHeader(b.header_hex);
  const hashOk = hdr.hash === b.hash;
  show(out, h('section.card', { 'aria-label': `Block ${height}` },
    h('h3', `Block ${b.height}`),
    h('p', b.height > 1 ? h('a', { href: `#block=${b.height - 1}` }, '← Older block') : null, ' ',
      b.height < latestHeight ? h('a', { href: `#block=${b.height + 1}` }, 'Newer block →') : null),
    hashOk ? note('ok', 'The header bytes hash to this block hash (checked in your browser).')
      : note('bad', 'The header bytes do NOT hash to the block hash the node gave.'),
    h('dl.kv',
      h('dt', 'Hash'), h('dd.mono', b.hash),
      h('dt', 'Time'), h('dd', `${relative(hdr.time_ms)}, ${when(hdr.time_ms)} (${ZONE})`),
      h('dt', 'Previous'), h('dd.mono', h('a', { href: `#block=${hdr.height - 1}` }, hdr.prev)),
      h('dt', 'Transaction root'), h('dd.mono', hdr.tx_root),
      h('dt', 'Ledger log'), h('dd.mono', `${hdr.log_size} entries, root ${hdr.log_root}`),
      h('dt', 'State hash'), h('dd.mono', hdr.state_hash),
      h('dt', 'Proposer'), h('dd.mono', hdr.proposer),
      h('dt', 'Signed by'), h('dd', b.commit ? b.commit.signatures.map((s) => s.name).join(', ') : 'not yet certified')),
    h('h4', `${b.txs.length} transactions`),
    h('ul', b.txs.map((id) => h('li.mono', h('a', { href: `#tx=${id}` }, id))))));
  out.scrollIntoView({ block: 'nearest' });
}

// Who a sender is, from GET /v1/account (members carry a name; patients
// are not named in public).
async function senderName(keyHex) {
  const a = await account(keyHex).catch(() => null);
  if (!a) return 'a key the ledger does not know as an account (a node, or not yet registered)';
  if (a.role === 'patient') return 'a patient';
  const org = a.org ? await orgName(a.org) : null;
  return `${a.name || 'unnamed'}, ${a.role}${org ? ` at ${org}` : ''}`;
}

function describe(t) {
  const p = t.payload || {};
  const bits = Object.entries(p).filter(([, v]) => typeof v !== 'object').slice(0, 6)
    .map(([k, v]) => `${k}: ${v}`);
  return bits.join(', ');
}

async function showTx(id) {
  const out = $('#tx');
  $('#tx-id').value = id;
  show(out, h('p.muted', 'Fetching the transaction and its proof…'));
  const t = await get(`/v1/tx/${id}`);
  const parts = [h('h3', `Transaction ${short(id, 12)}`),
    h('dl.kv',
      h('dt', 'Type'), h('dd', t.tx ? t.tx.type : '?'),
      h('dt', 'Status'), h('dd', t.status + (t.height ? ` in block ${t.height} (position ${t.index}), ledger log entry ${t.log_index}` : '') + (t.reason ? `: ${t.reason}` : '')),
      h('dt', 'Sender'), h('dd', t.tx ? [await senderName(t.tx.sender), h('br'), h('span.mono', t.tx.sender)] : ''),
      h('dt', 'Nonce'), h('dd', t.tx ? String(t.tx.nonce) : ''),
      h('dt', 'Content'), h('dd', t.tx ? describe(t.tx) : ''))];
  if (t.status !== 'committed') {
    show(out, h('section.card', parts, note('info', 'Only committed transactions have an inclusion proof.')));
    return;
  }
  const proof = await get(`/v1/proof/${id}`);
  const r = await checkInclusion(id, proof);
  show(out, h('section.card', parts,
    h('div', { id: 'proof-verdict', 'data-ok': String(r.ok) },
      r.ok ? note('ok', `Proof checked in your browser: this transaction is entry ${proof.leaf_index} of ${proof.tree_size} in the ledger log under block ${proof.header.height}.`)
        : h('p.note.bad', { role: 'alert' }, h('strong', 'Proof check FAILED. '), 'The node\'s proof does not show this transaction in the ledger; do not trust this answer.')),
    h('ol', r.steps.map((s) => h('li', h('span.badge', { class: `badge ${s.ok ? 'ok' : 'bad'}` }, s.ok ? 'pass' : 'FAIL'), ' ', s.text))),
    h('details', h('summary', 'Raw proof'), h('pre', JSON.stringify(proof, null, 1)))));
}

function route() {
  const m = /^#(tx|block)=([0-9a-fA-F]+)$/.exec(location.hash);
  if (!m) return;
  const p = m[1] === 'tx' ? showTx(m[2].toLowerCase()) : showBlock(Number(m[2]));
  p.catch((e) => show(m[1] === 'tx' ? '#tx' : '#block', note('bad', e.message)));
}

function go(hash) {
  if (location.hash === `#${hash}`) route();
  else location.hash = hash;
}

// A block hash: walked back from the newest block, 100 headers a request.
async function findBlockHash(hash) {
  const top = (await get('/v1/blocks?limit=1')).latest;
  for (let hi = top; hi >= 1; hi -= 100) {
    const got = await headers(Math.max(1, hi - 99), hi);
    const b = got.find((x) => x.hash === hash);
    if (b) return b.height;
    show('#search-msg', h('p.muted', `Looking for that block hash: checked heights ${hi} down to ${Math.max(1, hi - 99)}…`));
  }
  return 0;
}

// Search: a height, a block hash or a transaction id.
$('#tx-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = $('#tx-id').value.trim().toLowerCase();
  show('#search-msg');
  try {
    if (/^\d{1,15}$/.test(q)) {
      const n = Number(q);
      if (n < 1 || n > latestHeight) throw new Error(`no block at height ${n}: heights go from 1 to ${latestHeight}`);
      go(`block=${n}`);
      return;
    }
    if (!/^[0-9a-f]{64}$/.test(q)) throw new Error('type a block height (digits), or a block hash or transaction id (64 hex digits)');
    const tx = await get(`/v1/tx/${q}`).catch((e) => { if (e.status === 404) return null; throw e; });
    if (tx) { go(`tx=${q}`); return; }
    const height = await findBlockHash(q);
    if (height) { show('#search-msg'); go(`block=${height}`); return; }
    throw new Error('no transaction and no block has this id on this ledger');
  } catch (e) {
    show('#search-msg', h('p.note.warn#search-none', { role: 'status' }, `Nothing found: ${e.message}.`));
  }
});
$('#hide-empty').addEventListener('change', () => pageTo(null).catch((e) => show('#blocks', note('bad', e.message))));
// The paging buttons: disabled while a page loads; blocks() then sets
// whether there is anything older or newer.
function pager(button, fn) {
  button.addEventListener('click', async () => {
    for (const b of document.querySelectorAll('.pager button')) b.disabled = true;
    try {
      await fn();
    } catch (e) {
      show('#blocks', note('bad', e.message));
      for (const b of document.querySelectorAll('.pager button')) b.disabled = false;
    }
  });
}
pager($('#blocks-older'), () => pageTo(Number($('#blocks-older').dataset.next)));
pager($('#blocks-newer'), async () => {
  // The page above this one: PAGE blocks (or PAGE non-empty ones) newer.
  const hide = $('#hide-empty').checked;
  const shown = [...document.querySelectorAll('#blocks-table tbody tr')].map((tr) => Number(tr.dataset.height));
  const top = shown.length ? shown[0] : latestHeight;
  if (!hide) return pageTo(Math.min(latestHeight, top + PAGE));
  // Walk up from the page's newest block until PAGE non-empty ones are passed.
  let found = 0;
  let h = top + 1;
  let newTop = top;
  while (h <= latestHeight && found < PAGE) {
    const got = (await headers(h, Math.min(latestHeight, h + 99))).reverse();
    for (const x of got) if (x.tx_count > 0 && found < PAGE) { found++; newTop = x.height; }
    h += 100;
  }
  return pageTo(found < PAGE ? null : newTop);
});
pager($('#blocks-latest'), () => pageTo(null));
action($('#verify-again'), $('#verify'), verifyStatus);
window.addEventListener('hashchange', route);

Promise.all([verifyStatus(), nodeStatus(), blocks(), validators()])
  .catch((e) => show('#status', note('bad', `The node does not answer: ${e.message}`)));
route();
