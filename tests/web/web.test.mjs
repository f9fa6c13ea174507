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
import { after, before, test } from 'node:test';
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

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
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
