// Explorer: the node's verify report, blocks (paged older/newer, empty
// ones hidden on request), the validator set of any height, governance
// proposals with their votes, a search by height, block hash or
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

// The validator set of a height (the latest block's by default), with who
// signed that block's certificate: indices are those of that height's set.
async function validators(height) {
  const latest = await get('/v1/block/latest').catch(() => null);
  const at = height || (latest ? latest.height : 0);
  const v = await get(at ? `/v1/validators?height=${at}` : '/v1/validators');
  const block = !at ? null : latest && latest.height === at ? latest : await get(`/v1/block/${at}`).catch(() => null);
  const signed = new Set(((block && block.commit && block.commit.signatures) || []).map((s) => s.validator));
  show('#validators', h('table.stack#validators-table', { 'data-height': String(v.height) },
    h('caption.muted', `Validator set of height ${v.height} (in force from height ${v.from}). ` +
      `Total voting power ${v.total_power}; a block is final with more than two thirds.`),
    h('thead', h('tr', ['Validator', 'Organisation', 'Power', block ? `Block ${block.height}` : 'Block', 'Node key'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', v.validators.map((x) => h('tr',
      h('td', { 'data-label': 'Validator' }, x.name), h('td', { 'data-label': 'Organisation' }, x.org_name || String(x.org)),
      h('td', { 'data-label': 'Power' }, String(x.power)),
      h('td', { 'data-label': 'Block' }, block ? (signed.has(x.index) ? h('span.badge.ok', 'signed') : h('span.badge.warn', 'no signature')) : '–'),
      h('td.mono', { 'data-label': 'Node key' }, short(x.node_key, 10)))))));
}

// ---- governance ----------------------------------------------------------

// One line saying what a proposal changes.
function changeText(c) {
  switch (c.kind) {
    case 'add_org': return `Admit ${c.name} (${c.org_kind})`;
    case 'suspend_org': return `Suspend organisation ${c.org}`;
    case 'remove_org': return `Remove organisation ${c.org}`;
    case 'reinstate_org': return `Reinstate organisation ${c.org}`;
    case 'add_validator': return `Add validator ${c.name} of organisation ${c.org}, power ${c.power}`;
    case 'add_node': return `Add node ${c.name} of organisation ${c.org}`;
    case 'remove_validator': return `Remove validator ${short(c.node_key, 10)}`;
    case 'set_power': return `Set the power of ${short(c.node_key, 10)} to ${c.power}`;
    case 'set_param': return `Set ${c.param} to ${c.value}`;
    case 'replace_admin': return `Replace the admin key of organisation ${c.org}`;
    case 'upgrade': return `Upgrade "${c.name}": version ${c.version} from height ${c.height}`;
    default: return c.kind;
  }
}

const STATUS_BADGE = { open: 'warn', passed: 'ok', applied: 'ok', failed: 'bad', expired: 'bad' };

function statusBadge(s) { return h(`span.badge.${STATUS_BADGE[s] || 'warn'}`, s); }

async function governance() {
  const g = await get('/v1/gov/proposals');
  if (!g.proposals.length) {
    show('#gov', h('p', 'No proposal yet: the organisations and validators are those of the genesis.'));
    return;
  }
  show('#gov', h('table.stack#gov-table',
    h('caption.muted', `${g.count} proposals; the newest first.`),
    h('thead', h('tr', ['Proposal', 'Change', 'Status', 'Votes', 'Deadline', 'Takes effect'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', g.proposals.map((p) => h('tr', { 'data-id': String(p.id) },
      h('td', { 'data-label': 'Proposal' }, h('a', { href: `#proposal=${p.id}` }, `#${p.id}`)),
      h('td', { 'data-label': 'Change' }, changeText(p.change)),
      h('td', { 'data-label': 'Status' }, statusBadge(p.status)),
      h('td', { 'data-label': 'Votes' }, `${p.yes} yes, ${p.no} no of ${p.electorate}`),
      h('td', { 'data-label': 'Deadline' }, `height ${p.deadline}`),
      h('td', { 'data-label': 'Takes effect' }, `height ${p.activation}`))))));
}

async function showProposal(id) {
  const p = await get(`/v1/gov/proposals/${id}`);
  const names = await Promise.all(p.votes.map((v) => orgName(v.org)));
  show('#proposal', h('section.card', { 'aria-label': `Proposal ${p.id}` },
    h('h3', `Proposal #${p.id}: `, changeText(p.change), ' ', statusBadge(p.status)),
    p.note ? note('bad', `It could not take effect: ${p.note}`) : null,
    h('dl.kv',
      h('dt', 'Proposed by'), h('dd', `${await orgName(p.org)} at height ${p.height}`),
      h('dt', 'Votes'), h('dd', `${p.yes} yes and ${p.no} no; ${p.electorate} organisations active; more than two thirds must approve`),
      h('dt', 'Deadline'), h('dd', `height ${p.deadline}`),
      h('dt', 'Takes effect'), h('dd', `height ${p.activation}`)),
    h('table.stack#votes-table',
      h('thead', h('tr', ['Organisation', 'Vote', 'Height'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', p.votes.map((v, i) => h('tr',
        h('td', { 'data-label': 'Organisation' }, names[i]),
        h('td', { 'data-label': 'Vote' }, v.approve ? h('span.badge.ok', 'yes') : h('span.badge.bad', 'no')),
        h('td', { 'data-label': 'Height' }, String(v.height))))))));
  $('#proposal').scrollIntoView({ block: 'nearest' });
}

$('#val-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = $('#val-height').value.trim();
  validators(v ? Number(v) : 0).catch((e) => show('#validators', note('bad', e.message)));
});

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

// A node (it signs access entries and scans) is named by the validator set.
async function nodeName(keyHex) {
  const v = (await get('/v1/validators').catch(() => ({ validators: [] }))).validators.find((x) => x.node_key === keyHex);
  return v && v.name ? `node ${v.name}` : 'a node';
}

// Who a sender is, from GET /v1/account (members carry a name; patients
// are not named in public).
async function senderName(keyHex) {
  const a = await account(keyHex).catch(() => null);
  if (!a) return 'a key the ledger does not know as an account (a node, or not yet registered)';
  if (a.role === 'patient') return 'a patient';
  const org = a.org ? await orgName(a.org) : null;
  if (a.role === 'node') return `${await nodeName(keyHex)}${org ? ` of ${org}` : ''}`;
  return `${a.name || 'unnamed'}, ${a.role}${org ? ` at ${org}` : ''}`;
}

// The decoded content of a transaction (GET /v1/tx: every type has one):
// one line a field, lists summarised, keys shortened and linked.
const HEX64 = /^[0-9a-f]{64}$/;
function valueView(v) {
  if (v === null || v === undefined || v === '') return '–';
  if (Array.isArray(v)) {
    if (!v.length) return 'none';
    const first = v.slice(0, 5).map((x) => (typeof x === 'object' ? Object.values(x).filter((y) => typeof y !== 'object').join(' ') : String(x)));
    return `${v.length}: ${first.join('; ')}${v.length > 5 ? '; …' : ''}`;
  }
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ');
  if (typeof v === 'string' && HEX64.test(v)) return h('a.mono', { href: `#account=${v}`, title: v }, short(v, 8));
  return String(v);
}
function describe(t) {
  const p = t.payload;
  if (!p || typeof p !== 'object') return h('span.muted', 'no content (or it does not decode)');
  return h('dl.kv#tx-content', Object.entries(p).map(([k, v]) => [h('dt', k.replace(/_/g, ' ')), h('dd', valueView(v))]));
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

// An account: who it is (a member's name and organisation; a patient is
// only "a patient"). An organisation: its members. A GTIN: the product its
// maker registered.
async function showAccount(key) {
  const a = await account(key);
  if (!a) throw new Error('no account has this key');
  const org = a.org ? await orgName(a.org) : null;
  const title = a.role === 'patient' ? 'A patient' : a.role === 'node' ? await nodeName(key) : a.name || 'An unnamed member';
  show('#found', h('section.card#account-card', h('h3', title),
    h('dl.kv', h('dt', 'Role'), h('dd', a.role), h('dt', 'Status'), h('dd', a.status),
      org ? [h('dt', 'Organisation'), h('dd', h('a', { href: `#org=${a.org}` }, org))] : null,
      h('dt', 'Since block'), h('dd', h('a', { href: `#block=${a.since_height}` }, String(a.since_height))),
      h('dt', 'Transactions sent'), h('dd', String(a.nonce)),
      h('dt', 'Key'), h('dd.mono', key))));
}
async function showOrg(id) {
  const o = await get(`/v1/org/${id}`);
  const d = await get(`/v1/directory?org=${id}`);
  show('#found', h('section.card#org-card', h('h3', o.name),
    h('dl.kv', h('dt', 'Kind'), h('dd', o.kind), h('dt', 'GLN'), h('dd', o.gln || '–'), h('dt', 'Validators'), h('dd', String(o.validators))),
    h('h4', `${d.members.length}${d.more ? '+' : ''} members`),
    h('ul#org-members', d.members.map((m) => h('li', h('a', { href: `#account=${m.key}` }, m.name), `, ${m.role}`)))));
}
async function showGtin(g) {
  const p = await get(`/v1/product/${g}`);
  show('#found', h('section.card#product-card', h('h3', [p.name, p.strength].filter(Boolean).join(' ')),
    h('dl.kv', h('dt', 'Form'), h('dd', p.form), h('dt', 'Pack'), h('dd', `${p.pack_size} units`),
      h('dt', 'Made by'), h('dd', h('a', { href: `#org=${p.org}` }, p.manufacturer || `organisation ${p.org}`)),
      h('dt', 'GTIN'), h('dd.mono', p.gtin),
      h('dt', 'Registered'), h('dd', h('a', { href: `#tx=${p.tx_id}` }, `block ${p.height}`))),
    h('p', h('a', { href: `/verify?code=${encodeURIComponent(`(01)${p.gtin}`)}` }, 'Verify a pack of it'))));
}

function route() {
  const m = /^#(tx|block|account|org|gtin|proposal)=([0-9a-zA-Z]+)$/.exec(location.hash);
  if (!m) return;
  const [, kind, v] = m;
  const out = kind === 'tx' ? '#tx' : kind === 'block' ? '#block' : kind === 'proposal' ? '#proposal' : '#found';
  const p = kind === 'proposal' ? showProposal(Number(v)) : kind === 'tx' ? showTx(v.toLowerCase()) : kind === 'block' ? showBlock(Number(v))
    : kind === 'account' ? showAccount(v.toLowerCase()) : kind === 'org' ? showOrg(Number(v)) : showGtin(v);
  p.catch((e) => show(out, note('bad', e.message)));
}

function go(hash) {
  if (location.hash === `#${hash}`) route();
  else location.hash = hash;
}

// A block hash: GET /v1/block/{hash} (0 when no block has it).
async function findBlockHash(hash) {
  const b = await get(`/v1/block/${hash}`).catch((e) => { if (e.status === 404) return null; throw e; });
  return b ? b.header.height : 0;
}

const none404 = (e) => { if (e.status === 404) return null; throw e; };

// Search: a height, a GTIN, a block hash, a transaction id, an account key,
// or words naming an organisation or a member.
$('#tx-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const raw = $('#tx-id').value.trim();
  const q = raw.toLowerCase();
  show('#search-msg');
  show('#found');
  try {
    if (/^\d{8}$|^\d{12,14}$/.test(q)) {
      const p = await get(`/v1/product/${q}`).catch(none404);
      if (p) { go(`gtin=${p.gtin}`); return; }
      if (q.length !== 8 || Number(q) > latestHeight) throw new Error(`no product is registered with GTIN ${q}`);
    }
    if (/^\d{1,15}$/.test(q)) {
      const n = Number(q);
      if (n < 1 || n > latestHeight) throw new Error(`no block at height ${n}: heights go from 1 to ${latestHeight}`);
      go(`block=${n}`);
      return;
    }
    if (/^[0-9a-f]{64}$/.test(q)) {
      const tx = await get(`/v1/tx/${q}`).catch(none404);
      if (tx) { go(`tx=${q}`); return; }
      const height = await findBlockHash(q);
      if (height) { go(`block=${height}`); return; }
      if (await account(q)) { go(`account=${q}`); return; }
      throw new Error('no transaction, block or account has this id on this ledger');
    }
    if (q.length < 2) throw new Error('type at least two letters of a name');
    // Words: organisations by name, and members by name (the directory).
    const words = q.split(/\s+/);
    const os = (await get('/v1/orgs')).organisations.filter((o) => words.every((w) => o.name.toLowerCase().includes(w)));
    const ms = (await get(`/v1/directory?q=${encodeURIComponent(raw.slice(0, 80))}`)).members;
    if (!os.length && !ms.length) throw new Error(`no organisation and no member is named "${raw}"`);
    if (os.length === 1 && !ms.filter((m) => m.org !== os[0].id).length) { go(`org=${os[0].id}`); return; }
    show('#found', h('section.card#search-results', h('h3', 'Found'),
      os.length ? [h('h4', 'Organisations'), h('ul', os.map((o) => h('li', h('a', { href: `#org=${o.id}` }, o.name), `, ${o.kind}`)))] : null,
      ms.length ? [h('h4', 'Members'), h('ul', ms.map((m) => h('li', h('a', { href: `#account=${m.key}` }, m.name), `, ${m.role} at ${m.org_name}`)))] : null));
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

Promise.all([verifyStatus(), nodeStatus(), blocks(), validators(), governance()])
  .catch((e) => show('#status', note('bad', `The node does not answer: ${e.message}`)));
route();
