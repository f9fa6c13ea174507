// Verify a medicine: camera or photo scan (zxing-wasm, QR and DataMatrix),
// or a typed code; the node's public Digital Link resolver gives the
// verdict, shown large; the custody proofs are checked in the browser.
// Supply-chain members sign commission/ship/receive/dispense here.
import { layout } from '../layout.js';
import { get, orgs, status } from '../api.js';
import { keyPanel } from '../keypanel.js';
import { resolverPath, gtin14 } from '../gs1.js';
import { Writer } from '../codec.js';
import { TX, submit } from '../tx.js';
import { decodeHeader } from '../header.js';
import { rootFromInclusion } from '../merkle.js';
import { checkPackState } from '../lightcheck.js';
import { decode, loadZxing } from '../scan.js';
import { $, enc, h, hex, note, randomBytes, short, show, unhex, when } from '../util.js';

layout();

const VERDICTS = {
  genuine: ['ok', 'Genuine'],
  unknown_serial: ['bad', 'Counterfeit'],
  lot_mismatch: ['bad', 'Counterfeit'],
  expiry_mismatch: ['bad', 'Counterfeit'],
  recalled: ['bad', 'Recalled'],
  expired: ['bad', 'Expired'],
  already_dispensed: ['bad', 'Already dispensed: possible clone'],
  dispensed: ['ok', 'Dispensed'],
  decommissioned: ['bad', 'Withdrawn'],
  suspect: ['warn', 'Suspect'],
  illegitimate: ['bad', 'Illegitimate'],
};
const EVENTS = { commission: 'Made', aggregate: 'Packed', disaggregate: 'Unpacked', ship: 'Shipped',
  receive: 'Received', dispense: 'Dispensed', decommission: 'Withdrawn', flag: 'Flagged' };

let lastPack = null;

// Every custody proof against the header the verdict was given at.
async function checkProofs(v) {
  if (!v.proofs || !v.proofs.length) return null;
  const hdr = await decodeHeader((await get(`/v1/block/${v.checked_at.height}`)).header_hex);
  if (hdr.hash !== v.checked_at.header_hash) return false;
  for (const p of v.proofs) {
    const root = await rootFromInclusion(unhex(p.leaf_hash), p.leaf_index, hdr.log_size, p.audit_path.map(unhex)).catch(() => null);
    if (!root || hex(root) !== hdr.log_root) return false;
  }
  return true;
}

// A trading partner's own check of the pack (POST /v1/vrs, signed with the
// member's key): inside the supply chain a dispensed pack is a possible
// clone, and that verification raises the alert (app/supply.h). Returns
// the VRS answer, or null when no supply-chain member is signed in.
async function tradeCheck(v) {
  if (!me || !me.account || !TRADING.has(me.account.role) || !v.lot || !v.expiry) return null;
  const org = (await orgs()).find((o) => o.id === me.account.org);
  if (!org || !org.gln) return null;
  const st = await status();
  const body = enc.encode(JSON.stringify({
    gtin: v.product.gtin, serialNumber: v.serial, lotNumber: v.lot,
    expirationDate: v.expiry.slice(2).replace(/-/g, ''), requestorGLN: org.gln,
    corrUUID: hex(randomBytes(16)), context: 'medchain verify page',
  }));
  const sig = await me.key.signDomain('vrs-request', st.chain_id, body);
  const res = await fetch('/v1/vrs', { method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'Medchain-Key': me.key.pkHex, 'Medchain-Signature': hex(sig) } });
  return res.ok ? res.json() : null;
}

async function verify(code, { trade = true } = {}) {
  const out = $('#result');
  let path;
  try {
    path = resolverPath(code);
  } catch (e) {
    show(out, note('bad', `This code cannot be read: ${e.message}.`));
    return;
  }
  show(out, h('p.muted', 'Asking the ledger…'));
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const v = await res.json().catch(() => ({}));
  if (!res.ok) {
    show(out, h('div.verdict.bad', { id: 'verdict', 'data-verdict': 'bad_code' },
      h('span.big', 'Unreadable code'), h('p', v.message || `The node answered ${res.status}.`)));
    return;
  }
  // A member of the supply chain is told what the trade must know.
  const t = trade ? await tradeCheck(v).catch(() => null) : null;
  if (t && t.medchain && t.medchain.verdict === 'already_dispensed') {
    v.verdict = 'already_dispensed';
    v.verdict_text = 'Already dispensed: this pack was dispensed to a patient and is back in the trade. ' +
      'It may be a clone: do not sell or dispense it. The manufacturer and the regulator are alerted.';
  }
  const [kind, word] = VERDICTS[v.verdict] || ['warn', v.verdict];
  lastPack = v.genuine ? { gtin: v.product.gtin, serial: v.serial, lot: v.lot } : null;
  // The calm answer for the patient: when and where it was dispensed.
  const dispensedLine = v.dispensed
    ? h('p#dispensed-line', v.verdict === 'dispensed'
      ? `Dispensed on ${when(v.dispensed.time_ms)} by ${v.dispensed.by}. If you collected it there, it is yours to use.`
      : `Already dispensed on ${when(v.dispensed.time_ms)} by ${v.dispensed.by}.`) : null;
  const proofs = h('p.muted', v.proofs && v.proofs.length ? 'Checking the proofs in your browser…' : '');
  const facts = h('div#state-check', v.state_proofs ? h('p.muted', 'Checking the certificate and the current facts in your browser…') : '');
  show(out,
    h(`div.verdict.${kind}`, { id: 'verdict', 'data-verdict': v.verdict, role: kind === 'ok' ? 'status' : 'alert' },
      h('span.big', word), dispensedLine, h('p', v.verdict_text)),
    h('section.card', { 'aria-label': 'The pack' },
      h('h2', 'The pack'),
      h('dl.kv',
        v.product.name ? [h('dt', 'Medicine'), h('dd#product-name', [v.product.name, v.product.strength].filter(Boolean).join(' ')),
          h('dt', 'Form'), h('dd', `${v.product.form}, ${v.product.pack_size} in the pack`)]
          : [h('dt', 'Medicine'), h('dd.muted', 'its maker has not registered its name on the ledger')],
        h('dt', 'Product (GTIN)'), h('dd', v.product.gtin),
        h('dt', 'Made by'), h('dd', v.product.manufacturer || 'nobody on this ledger'),
        h('dt', 'Serial'), h('dd', v.serial),
        h('dt', 'Lot'), h('dd', v.lot || (v.scanned && v.scanned.lot) || '–'),
        h('dt', 'Expiry'), h('dd', v.expiry || (v.scanned && v.scanned.expiry) || '–'),
        h('dt', 'Now'), h("dd", [v.status && v.status.replace(/_/g, " "), v.holder ? `held by ${v.holder}` : null].filter(Boolean).join(', ') || '–'),
        v.recall ? [h('dt', 'Recall'), h('dd', `recalled ${when(v.recall.time_ms || v.recall.time)}`)] : null),
      v.custody.length ? [h('h3', 'Its journey'), h('ol.timeline', v.custody.map((e) => h('li',
        h('strong', EVENTS[e.event] || e.event), ' by ', e.org,
        e.to ? ` to ${e.to}` : '', e.from ? ` from ${e.from}` : '',
        h('br'), h('span.muted', `${when(e.time_ms || e.time)} · block ${e.height} · `),
        h('a.mono', { href: `/explorer#tx=${e.tx_id}` }, short(e.tx_id)))))] : null,
      proofs,
      facts,
      h('p.muted', `Checked against block ${v.checked_at.height} (${when(v.checked_at.time_ms || v.checked_at.time)}).`)));
  const ok = await checkProofs(v).catch(() => false);
  if (ok === true) show(proofs, note('ok', `All ${v.proofs.length} steps are proven in the ledger (checked in your browser).`));
  else if (ok === false) show(proofs, note('bad', 'The proofs of this journey do NOT check out against the ledger header.'));
  if (v.state_proofs) {
    const st = await checkPackState(v);
    facts.dataset.ok = String(st.ok);
    show(facts,
      st.ok ? note('ok', 'The signatures of the validators and the pack\'s current status and recall are proven (checked in your browser).')
        : note('bad', 'The current status or recall of this pack is NOT proven: do not rely on this answer.'),
      h('details', h('summary', 'What your browser checked'),
        h('ul', st.steps.map((x) => h(`li.${x.ok ? 'ok' : 'bad'}`, x.text)))));
  }
  if (lastPack) fillAction();
}

$('#code-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  verify($('#code').value).catch((e) => show('#result', note('bad', e.message)));
});

// --- scanning ---

async function found(text) {
  $('#code').value = text;
  show('#scan-msg', note('info', 'Code read.'));
  await verify(text);
}

$('#code-image').addEventListener('change', async () => {
  const f = $('#code-image').files[0];
  if (!f) return;
  show('#scan-msg', h('p.muted', 'Reading the code in the photo…'));
  try {
    const r = await decode(f);
    if (r) await found(r.text);
    else show('#scan-msg', note('warn', 'No code found in this photo. Try closer, with the code flat and lit.'));
  } catch (e) {
    show('#scan-msg', note('bad', e.message));
  }
});

let stream = null;
async function stopCamera() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $('#video').classList.add('hidden');
  $('#camera').textContent = 'Scan with the camera';
}

$('#camera').addEventListener('click', async () => {
  if (stream) return stopCamera();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    show('#scan-msg', note('warn', 'This browser cannot use the camera here (it needs HTTPS). Use a photo of the code instead.'));
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch (e) {
    show('#scan-msg', note('warn', `The camera is not available: ${e.message}`));
    return;
  }
  const video = $('#video');
  video.srcObject = stream;
  video.classList.remove('hidden');
  $('#camera').textContent = 'Stop the camera';
  await video.play();
  show('#scan-msg', h('p.muted', 'Hold the code inside the picture…'));
  await loadZxing();
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  while (stream) {
    if (video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0);
      const r = await decode(ctx.getImageData(0, 0, canvas.width, canvas.height)).catch(() => null);
      if (r) {
        await stopCamera();
        await found(r.text);
        break;
      }
    }
    await new Promise((res) => setTimeout(res, 200));
  }
});

// A code in the address (?code=...) is verified at once.
const q = new URLSearchParams(location.search).get('code');
if (q) { $('#code').value = q; verify(q).catch((e) => show('#result', note('bad', e.message))); }

// --- supply-chain members ---

const TRADING = new Set(['manufacturer', 'distributor', 'pharmacy', 'pharmacist', 'regulator']);
let me = null;

keyPanel('#keys', {
  title: 'Supply-chain members',
  onKey: async (k) => {
    me = k;
    const can = k && k.account && TRADING.has(k.account.role) && k.account.status === 'active';
    $('#actions').classList.toggle('hidden', !can);
    if (k && !can) show('#act-msg', note('info', 'This key has no supply-chain role.'));
    if (can) {
      const list = await orgs();
      show('#act-to', list.filter((o) => o.id !== k.account.org).map((o) => h('option', { value: o.id }, `${o.name} (${o.kind})`)));
      $('#act').value = k.account.role === 'manufacturer' ? 'commission' : k.account.role === 'distributor' ? 'receive' : 'dispense';
      fillAction();
    }
  },
});

function fillAction() {
  const a = $('#act').value;
  $('#f-lot').classList.toggle('hidden', a !== 'commission');
  $('#f-expiry').classList.toggle('hidden', a !== 'commission');
  $('#f-to').classList.toggle('hidden', a !== 'ship');
  if (lastPack && !$('#act-gtin').value) {
    $('#act-gtin').value = lastPack.gtin;
    $('#act-serials').value = lastPack.serial;
  }
}
$('#act').addEventListener('change', fillAction);

function items(w, gtin, serials) {
  w.u16(serials.length);
  for (const s of serials) w.u8(1).str8(gtin).str8(s);
  return w;
}

$('#act-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const btn = $('#act-go');
  btn.disabled = true;
  try {
    const a = $('#act').value;
    const gtin = gtin14($('#act-gtin').value);
    const serials = $('#act-serials').value.split(',').map((s) => s.trim()).filter(Boolean);
    if (!serials.length) throw new Error('name at least one serial number');
    let type;
    const w = new Writer();
    if (a === 'dispense') {
      if (serials.length !== 1) throw new Error('dispense one pack at a time');
      type = TX.drug_dispense;
      w.str8(gtin).str8(serials[0]);
    } else if (a === 'receive') {
      type = TX.drug_receive;
      items(w, gtin, serials);
    } else if (a === 'ship') {
      type = TX.drug_ship;
      items(w.u32(Number($('#act-to').value)), gtin, serials);
    } else {
      type = TX.drug_commission;
      const exp = $('#act-expiry').value;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(exp)) throw new Error('choose the expiry date');
      const lot = $('#act-lot').value.trim();
      if (!lot) throw new Error('name the lot');
      w.str8(gtin).str8(lot).u32(Number(exp.replace(/-/g, ''))).u16(serials.length);
      for (const s of serials) w.str8(s);
    }
    show('#act-msg', h('p.muted', 'Signing and sending…'));
    const t = await submit(me.key, type, w.bytes());
    show('#act-msg', h('p.note.ok', { id: 'act-done' }, `Recorded in block ${t.height}. `,
      h('a', { href: `/explorer#tx=${t.id}` }, 'See it in the explorer')));
    // the public answer after one's own step (not a trade check of the
    // pack one just dispensed)
    if ($('#code').value) await verify($('#code').value, { trade: false });
  } catch (e) {
    show('#act-msg', note('bad', e.message));
  } finally {
    btn.disabled = false;
  }
});
void status;
