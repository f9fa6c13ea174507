// Browser tests of the web application: playwright-core driving Debian's
// chromium (headless) against a real local node (consortium.mjs).
//
//   node --test tests/web/        (make test runs it through tests/web/test_web.c)
//
// Screenshots of each main page go to $MEDCHAIN_SCREENSHOTS (default
// build/screenshots).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GTIN, startConsortium } from './consortium.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'web/package.json'));
const { chromium } = require('playwright-core');
const BIN = process.env.MEDCHAIN_BIN || join(root, 'build/medchain');
const CHROMIUM = process.env.MEDCHAIN_CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.MEDCHAIN_SCREENSHOTS || join(root, 'build/screenshots');

let net, browser;
const contexts = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  net = await startConsortium(BIN);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    // playwright gives the browser a fresh temporary --user-data-dir itself.
  });
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  if (browser) await browser.close().catch(() => {});
  if (net) await net.stop();
});

afterEach(async (t) => {
  if (t.passed === false || process.exitCode) await failShots(t);
});

// A fresh browser context (its own storage), pages failing on script errors.
async function newPage(viewport = { width: 1100, height: 900 }) {
  const ctx = await browser.newContext({ baseURL: net.url, viewport });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.setDefaultTimeout(15000);
  return page;
}

// On a failure, every open page is photographed (build/screenshots/failed-*).
async function failShots(t) {
  let i = 0;
  for (const c of contexts) for (const p of c.pages()) await shot(p, `failed-${t.name.slice(0, 20).replace(/\W+/g, '-')}-${i++}`).catch(() => {});
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// Access-log entries are committed in the block after the access: refresh
// until the entry shows (at most ~10 s).
async function refreshUntil(page, button, locator) {
  for (let i = 0; i < 20; i++) {
    await page.click(button);
    try {
      await locator.waitFor({ timeout: 500 });
      return;
    } catch { /* not yet */ }
  }
  await locator.waitFor({ timeout: 1 });
}

async function loadKey(page, who) {
  await page.locator('#key-file').setInputFiles(net.keyFile(who));
  await page.locator('.keypanel .who').waitFor();
}

test('explorer: the chain verifies, and a proof passes in the browser', async () => {
  const page = await newPage();
  await page.goto('/explorer');
  await assert.doesNotReject(page.locator('#verify-verdict[data-ok="true"]').waitFor());
  const tx = await (await fetch(`${net.url}/v1/block/2`)).json();
  const id = tx.txs[0];
  await page.fill('#tx-id', id);
  await page.click('#tx-form button[type=submit]');
  await page.locator('#proof-verdict[data-ok="true"]').waitFor();
  await shot(page, 'explorer');
  assert.deepEqual(page.errors, []);
});

test('explorer: an altered proof fails the check', async () => {
  const page = await newPage();
  // The first transaction of the log has an audit path as long as the tree is deep.
  const b = await (await fetch(`${net.url}/v1/block/1`)).json();
  const id = b.txs[0];
  await page.route('**/v1/proof/**', async (route) => {
    const res = await route.fetch();
    const proof = await res.json();
    assert.ok(proof.audit_path.length > 0, 'the proof has an audit path to alter');
    const p = proof.audit_path[0];
    proof.audit_path[0] = (p[0] === '0' ? '1' : '0') + p.slice(1);
    await route.fulfill({ response: res, json: proof });
  });
  await page.goto(`/explorer#tx=${id}`);
  await page.locator('#proof-verdict[data-ok="false"]').waitFor();
  assert.match(await page.locator('#proof-verdict').innerText(), /FAILED/);
  await shot(page, 'explorer-altered-proof');
});

test('verify a medicine: a pharmacist scans a genuine pack and a counterfeit one, and dispenses', async () => {
  const page = await newPage({ width: 390, height: 844 }); // a phone
  // Acme registers what the GTIN is (product master data on the ledger).
  net.mc('drug', 'product', '--key', 'mfr.json', '--gtin', GTIN, '--name', 'Salbutamol inhaler', '--strength',
    '100 microgram', '--form', 'pressurised inhalation', '--pack-size', '200');
  await page.goto('/verify');
  // The genuine pack: a photo of its QR label (with its text printed under
  // the code), decoded in the page.
  await page.locator('#code-image').setInputFiles(join(net.dir, 'genuine.png'));
  await page.locator('#verdict[data-verdict="genuine"]').waitFor();
  assert.match(await page.locator('#verdict .big').innerText(), /Genuine/);
  assert.equal(await page.locator('#product-name').innerText(), 'Salbutamol inhaler 100 microgram');
  assert.match(await page.locator('#result').innerText(), /pressurised inhalation, 200 in the pack/);
  await page.getByText(/proven in the ledger/).waitFor();
  // The certificate's signatures and the pack's and lot's rows, checked in the page.
  await page.locator('#state-check[data-ok="true"]').waitFor();
  await shot(page, 'verify-genuine');
  // A counterfeit: a serial nobody commissioned, typed as an element string.
  await page.fill('#code', `(01)${GTIN}(17)300630(10)LOT2026A(21)FAKE42`);
  await page.click('#code-form button[type=submit]');
  await page.locator('#verdict[data-verdict="unknown_serial"]').waitFor();
  assert.match(await page.locator('#verdict .big').innerText(), /Counterfeit/);
  await shot(page, 'verify-counterfeit');
  // The pharmacist signs in and dispenses PK3 (a transaction built and signed in the page).
  await loadKey(page, 'ph');
  assert.match(await page.locator('.keypanel .who').innerText(), /Pharmacist Pat/);
  await page.selectOption('#act', 'dispense');
  await page.fill('#act-gtin', GTIN);
  await page.fill('#act-serials', 'PK3');
  await page.fill('#code', `${net.url}/01/${GTIN}/10/LOT2026A/21/PK3?17=300630`);
  await page.click('#act-go');
  await page.locator('#act-done').waitFor();
  await page.locator('#verdict[data-verdict="dispensed"]').waitFor();
  assert.match(await page.locator('#dispensed-line').innerText(), /^Dispensed on .* by Corner Pharmacy\./);
  assert.deepEqual(page.errors, []);
  const alerts = async () => (await (await fetch(`${net.url}/v1/supply/alerts?org=2`)).json()).alerts
    .filter((a) => a.kind === 'clone' && a.serial === 'PK3');
  // The patient scans the pack she collected, twice: calm both times, no alert.
  const link = `${net.url}/01/${GTIN}/10/LOT2026A/21/PK3?17=300630`;
  const pat = await newPage({ width: 390, height: 844 });
  await pat.goto('/verify');
  for (let i = 0; i < 2; i++) {
    await pat.fill('#code', link);
    await pat.click('#code-form button[type=submit]');
    await pat.locator('#verdict[data-verdict="dispensed"]').waitFor();
    assert.match(await pat.locator('#verdict .big').innerText(), /^Dispensed$/);
    assert.match(await pat.locator('#dispensed-line').innerText(), /by Corner Pharmacy\. If you collected it there, it is yours to use\./);
    assert.doesNotMatch(await pat.locator('#result').innerText(), /clone|Do not use/i);
  }
  await shot(pat, 'verify-dispensed-calm');
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await alerts(), [], 'a patient\'s scans raise no alert');
  // Inside the supply chain the code is a possible clone: the distributor's
  // check says so, and the manufacturer is alerted.
  const dist = await newPage();
  await dist.goto('/verify');
  await loadKey(dist, 'dist');
  await dist.fill('#code', link);
  await dist.click('#code-form button[type=submit]');
  await dist.locator('#verdict[data-verdict="already_dispensed"]').waitFor();
  assert.match(await dist.locator('#verdict').innerText(), /possible clone[\s\S]*Already dispensed on .* by Corner Pharmacy/);
  for (let i = 0; i < 50 && !(await alerts()).length; i++) await new Promise((r) => setTimeout(r, 200));
  assert.equal((await alerts()).length, 1, 'the trade scan raised the clone alert');
  // The explorer finds the product by its GTIN.
  await dist.goto('/explorer');
  await dist.fill('#tx-id', GTIN);
  await dist.click('#tx-form button[type=submit]');
  await dist.locator('#product-card h3', { hasText: 'Salbutamol inhaler 100 microgram' }).waitFor();
  assert.match(await dist.locator('#product-card').innerText(), /pressurised inhalation[\s\S]*200 units[\s\S]*Acme Pharma/);
  assert.deepEqual(pat.errors, []);
  assert.deepEqual(dist.errors, []);
});

test('records: grant, read, the read in the patient\'s log; revoke, refusal shown; break-glass reviewed', async () => {
  const patient = net.pub('patient');
  // Dr Ada writes an allergy record from the form.
  const ada = await newPage();
  await ada.goto('/clinician');
  await loadKey(ada, 'ada');
  await ada.fill('#patient', patient);
  await ada.selectOption('#add-type', 'AllergyIntolerance');
  await ada.fill('#add-text', 'Penicillin');
  await ada.click('#add-go');
  await ada.locator('#added').waitFor();

  // Dr Bob has no grant yet: refused.
  const bob = await newPage();
  await bob.goto('/clinician');
  await loadKey(bob, 'bob');
  await bob.fill('#patient', patient);
  await bob.selectOption('#rtype', 'AllergyIntolerance');
  await bob.click('#read');
  await bob.locator('#refused').waitFor();

  // The patient sees the record and grants Dr Bob their problem list.
  const pat = await newPage();
  await pat.goto('/patient');
  await loadKey(pat, 'patient');
  await pat.getByText('Allergy: Penicillin').waitFor();
  // Decrypted in the page: the record came as ciphertext from /sealed, its
  // contents are shown from what the browser opened with the patient's key.
  const rec = pat.locator('#record-list li.decrypted', { hasText: 'Allergy: Penicillin' });
  await rec.locator('summary').click();
  assert.match(await rec.locator('pre.record-json').innerText(), /"resourceType": "AllergyIntolerance"[\s\S]*Penicillin/);
  assert.match(await rec.innerText(), /matches the ledger's anchor/);
  // Dr Bob is picked by name from the directory, not by his key.
  await pat.fill('#grant-find', 'bob mar');
  await pat.locator('#grant-found button.pick', { hasText: "Dr Bob Marley, clinician at St Mary's Hospital" }).click();
  await pat.locator('#grant-chosen', { hasText: 'Dr Bob Marley' }).waitFor();
  assert.equal(await pat.inputValue('#grant-member'), net.pub('bob'));
  await pat.check('#cat-problems');
  await pat.click('#grant-go');
  await pat.locator('#grant-done').waitFor();
  assert.match(await pat.locator('#grant-done').innerText(), /[1-9]\d* record keys sealed/);
  await pat.locator('#grant-list').getByText('Dr Bob Marley').waitFor();

  // Dr Bob reads it now.
  await bob.click('#read');
  await bob.locator('#read-list').getByText('Allergy: Penicillin').waitFor();
  await bob.locator('#read-list button[data-open]').first().click();
  await bob.locator('#read-list .opened').waitFor();
  await shot(bob, 'clinician');

  // The patient sees that read in plain words.
  await refreshUntil(pat, '#refresh-log', pat.locator('#access-log li:not(.refused)',
    { hasText: /Dr Bob Marley at St Mary's Hospital read your allergy list for treatment/ }).first());

  // Revoked: Dr Bob is refused, and the patient sees the refusal.
  await pat.locator('#grant-list button[data-grant]').first().click();
  await pat.getByText('Access revoked').waitFor();
  await bob.click('#read');
  await bob.locator('#refused').waitFor();
  assert.match(await bob.locator('#refused').innerText(), /Refused \(403\)/);
  await shot(bob, 'clinician-refused');

  // Emergency: Dr Bob breaks the glass with a reason.
  await bob.locator('#btg summary').click();
  await bob.fill('#btg-reason', 'unconscious in the emergency department');
  await bob.click('#read');
  await bob.locator('#read-list').getByText('Allergy: Penicillin').waitFor();
  await bob.locator('#read-list button[data-open]').first().click();
  await bob.locator('#read-list .opened').waitFor();

  await refreshUntil(pat, '#refresh-log', pat.locator('#access-log li.btg', { hasText: /EMERGENCY/ }).first());
  await pat.locator('#access-log li.refused', { hasText: /Dr Bob Marley at St Mary's Hospital was REFUSED/ }).first().waitFor();
  await shot(pat, 'patient');

  // The auditor reviews the break-glass access.
  const aud = await newPage();
  await aud.goto('/auditor');
  await loadKey(aud, 'aud');
  await aud.locator('#bg-open > li', { hasText: 'unconscious in the emergency department' }).first().waitFor();
  // Every open break-glass access carries its justification: the read and the search.
  assert.equal(await aud.locator('#bg-open > li', { hasText: 'unconscious in the emergency department' }).count(),
               await aud.locator('#bg-open > li').count());
  // The review names the record's kind and Dr Bob's other accesses to her.
  const read = aud.locator('#bg-open > li', { hasText: 'opened allergy list' }).first();
  await read.waitFor();
  assert.match(await read.innerText(), /^OPEN Dr Bob Marley opened allergy list/);
  assert.match(await read.locator('details.others summary').innerText(), /[1-9]\d* other accesses by Dr Bob Marley to this patient/);
  await read.locator('details.others summary').click();
  assert.match(await read.locator('details.others').innerText(), /refused/);
  await aud.locator('#audit-table').waitFor();
  await shot(aud, 'auditor');
  // Closing without a finding says so next to it, and the queue stays.
  const before = await aud.locator('#bg-open > li').count();
  await aud.locator('#bg-open > li button').first().click();
  await aud.locator('#bg-open .review-msg', { hasText: 'Write the finding first' }).first().waitFor();
  assert.equal(await aud.locator('#bg-open > li').count(), before, 'the queue is still there');
  // The log filtered by the node: only the emergency reads, by Dr Bob found by name.
  await aud.selectOption('#f-kind', 'break_glass');
  await aud.fill('#f-member-find', 'marley');
  await aud.locator('#f-member-found button.pick', { hasText: 'Dr Bob Marley' }).click();
  await aud.click('#log-go');
  await aud.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length > 0 &&
    [...document.querySelectorAll('#audit-table tbody tr')].every((r) => r.dataset.kind === 'break_glass'));
  assert.match(await aud.locator('#audit-table tbody tr').first().innerText(), /Dr Bob Marley, St Mary's Hospital/);
  await aud.selectOption('#f-kind', 'refused');
  await aud.click('#log-go');
  await aud.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length > 0 &&
    [...document.querySelectorAll('#audit-table tbody tr')].every((r) => r.dataset.kind === 'refused'));
  await shot(aud, 'auditor-filtered');
  // Close every open access (the search and the read of the emergency).
  for (let i = 0; i < 5 && await aud.locator('#bg-open > li').count(); i++) {
    const n = await aud.locator('#bg-open > li').count();
    await aud.locator('#bg-open > li input').first().fill('justified: patient unconscious');
    await aud.locator('#bg-open > li button').first().click();
    await aud.waitForFunction((k) => document.querySelectorAll('#bg-open > li').length < k, n);
  }
  await aud.locator('#bg-none').waitFor();
  await aud.locator('#bg-closed li', { hasText: 'justified: patient unconscious' }).first().waitFor({ state: 'attached' });
  for (const p of [ada, bob, pat, aud]) assert.deepEqual(p.errors.filter((e) => !/status of 403/.test(e)), []);
});

test('records are decrypted in the patient\'s browser from ciphertext only', async () => {
  const pat = await newPage();
  const listings = [];
  const perRecord = [];
  pat.on('response', async (r) => {
    if (/\/v1\/records\?.*content=1/.test(r.url())) listings.push(await r.json());
    if (/\/v1\/records\/[^/]+\/sealed/.test(r.url())) perRecord.push(r.url());
  });
  await pat.goto('/patient');
  await loadKey(pat, 'patient');
  const rec = pat.locator('#record-list li.decrypted', { hasText: 'Condition: Asthma' });
  await rec.waitFor();
  await rec.locator('summary').click();
  assert.match(await rec.locator('pre.record-json').innerText(), /195967001/);
  // What the node sent: one listing with every ciphertext (one access entry
  // naming them all by their Merkle root), never the contents.
  assert.equal(listings.length, 1, 'one listing request for the whole visit');
  assert.deepEqual(perRecord, [], 'no request per record');
  const l = listings[0];
  const cond = l.records.find((r) => r.type === 'Condition');
  const asthma = l.sealed.find((b) => b.id === cond.id);
  assert.ok(asthma, 'the listing served the condition');
  assert.match(l.listing_reason, new RegExp(`^listing: ${l.sealed.length} of ${l.sealed.length} records served; root [0-9a-f]{64}$`));
  assert.ok(!JSON.stringify(l).includes('Asthma'), 'no plaintext in the answer');
  assert.ok(!JSON.stringify(l).includes('195967001'), 'no plaintext codes in the answer');
  await shot(pat, 'patient-decrypted');
  // A record tampered with in transit is refused by the page (hash and AEAD).
  const pat2 = await newPage();
  await pat2.route(/\/v1\/records\?.*content=1/, async (route) => {
    const res = await route.fetch();
    const b = await res.json();
    for (const it of b.sealed) {
      const ct = Buffer.from(it.ciphertext, 'base64');
      ct[ct.length - 1] ^= 1;
      it.ciphertext = ct.toString('base64');
    }
    await route.fulfill({ response: res, json: b });
  });
  await pat2.goto('/patient');
  await loadKey(pat2, 'patient');
  await pat2.locator('#record-list li.refused', { hasText: /does not match the hash anchored/ }).first().waitFor();
  assert.equal(await pat2.locator('#record-list li.decrypted').count(), 0);
  assert.deepEqual(pat.errors, []);
});

test('research: a patient consents in the page, a researcher\'s dataset has her rows, the trial verifies; withdrawal', async () => {
  const pat = await newPage();
  await pat.goto('/patient');
  await loadKey(pat, 'patient');
  await pat.locator('#research').getByText(/not given any research consent/).waitFor();
  await pat.selectOption('#consent-scope', '1');
  await pat.fill('#consent-target', 'ASTHMA-1');
  await pat.check('#rc-problems');
  await pat.click('#consent-go');
  await pat.locator('#consent-done', { hasText: 'Consent given (version 1' }).waitFor();
  await pat.locator('#consent-list li.active[data-target="ASTHMA-1"][data-version="1"]').waitFor();
  await shot(pat, 'patient-research-consent');

  const res = await newPage();
  await res.goto('/research');
  await loadKey(res, 'res');
  await res.fill('#study-id', 'ASTHMA-1');
  await res.click('#study-form button[type=submit]');
  await res.locator('#study-title', { hasText: 'Asthma control in adults' }).waitFor();
  assert.match(await res.locator('#primary-outcomes').innerText(), /exacerbations at 52 weeks/);
  assert.match(await res.locator('#secondary-outcomes').innerText(), /inhaler use at 52 weeks/);
  await res.locator('#verify-verdict[data-clean="true"]').waitFor();
  assert.match(await res.locator('#verify-verdict').innerText(), /Matches its registration/);
  await res.locator('#no-findings').waitFor();
  await res.click('#ds-go');
  const table = res.locator('#dataset-table');
  await table.waitFor();
  const rows = await table.locator('tbody tr').allInnerTexts();
  assert.ok(rows.some((r) => /^P-[0-9a-f]+\s+Condition\s+2026\s+.*195967001/.test(r)), rows.join('\n'));
  assert.ok(!rows.join(' ').includes(net.pub('patient')), 'no ledger key in the dataset');
  assert.ok(!/Asthma|Penicillin/.test(rows.join(' ')), 'no free text in the dataset');
  await shot(res, 'research');

  // Withdrawn (version 2, the next after the history): the next dataset has no rows of hers.
  await pat.click('#withdraw-go');
  await pat.locator('#consent-done', { hasText: 'Consent withdrawn (version 2' }).waitFor();
  await pat.locator('#consent-list li[data-version="2"]', { hasText: 'withdrawn' }).waitFor();
  await res.click('#ds-go');
  await res.getByText(/No consenting patient has records/).waitFor();
  for (const p of [pat, res]) assert.deepEqual(p.errors, []);
});

test('every main page loads without script errors, on a phone too', async () => {
  for (const [path, name] of [['/', 'home'], ['/research', 'research-signed-out'], ['/patient', 'patient-signed-out'], ['/admin', 'admin-signed-out'], ['/join', 'join-signed-out']]) {
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(path);
    await page.locator('footer.site').getByText(/Chain medchain-web/).waitFor();
    await shot(page, name);
    assert.deepEqual(page.errors, [], `${path}: ${page.errors.join('; ')}`);
  }
});
