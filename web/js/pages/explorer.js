// Explorer: the node's verify report, latest blocks, validators, and a
// transaction with its inclusion proof checked in the browser.
import { layout } from '../layout.js';
import { get, status } from '../api.js';
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

async function blocks() {
  const b = await get('/v1/blocks?limit=15');
  show('#blocks', h('table',
    h('caption.muted', `Newest first; the chain is at height ${b.latest}.`),
    h('thead', h('tr', h('th', 'Height'), h('th', 'Time'), h('th', 'Transactions'), h('th', 'Hash'))),
    h('tbody', b.blocks.map((x) => h('tr',
      h('td', h('a', { href: `#block=${x.height}` }, String(x.height))),
      h('td', when(x.time_ms)), h('td', String(x.tx_count)), h('td.mono', short(x.hash, 10)))))));
}

async function validators() {
  const [v, latest] = await Promise.all([get('/v1/validators'), get('/v1/block/latest').catch(() => null)]);
  const signed = new Set(((latest && latest.commit && latest.commit.signatures) || []).map((s) => s.validator));
  show('#validators', h('table',
    h('caption.muted', `Total voting power ${v.total_power}; a block is final with more than two thirds.`),
    h('thead', h('tr', h('th', 'Validator'), h('th', 'Organisation'), h('th', 'Power'), h('th', 'Latest block'), h('th', 'Node key'))),
    h('tbody', v.validators.map((x) => h('tr',
      h('td', x.name), h('td', x.org_name || String(x.org)), h('td', String(x.power)),
      h('td', latest ? (signed.has(x.index) ? h('span.badge.ok', 'signed') : h('span.badge.warn', 'no signature')) : '–'),
      h('td.mono', short(x.node_key, 10)))))));
}

async function showBlock(height) {
  const out = $('#block');
  const b = await get(`/v1/block/${height}`);
  const hdr = await decodeHeader(b.header_hex);
  const hashOk = hdr.hash === b.hash;
  show(out, h('section.card', { 'aria-label': `Block ${height}` },
    h('h3', `Block ${b.height}`),
    hashOk ? note('ok', 'The header bytes hash to this block hash (checked in your browser).')
      : note('bad', 'The header bytes do NOT hash to the block hash the node gave.'),
    h('dl.kv',
      h('dt', 'Hash'), h('dd.mono', b.hash),
      h('dt', 'Time'), h('dd', when(hdr.time_ms)),
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
      h('dt', 'Sender'), h('dd.mono', t.tx ? t.tx.sender : ''),
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

$('#tx-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = $('#tx-id').value.trim().toLowerCase();
  if (location.hash === `#tx=${id}`) route();
  else location.hash = `tx=${id}`;
});
action($('#verify-again'), $('#verify'), verifyStatus);
window.addEventListener('hashchange', route);

Promise.all([verifyStatus(), nodeStatus(), blocks(), validators()])
  .catch((e) => show('#status', note('bad', `The node does not answer: ${e.message}`)));
route();
