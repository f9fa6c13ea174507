// The explorer people can navigate: paging through blocks older and newer,
// hiding empty blocks, search by height, block hash and transaction id,
// relative times with the time zone named, senders named, and the blocks
// and validators readable on a phone without sideways scrolling. The chain:
// the consortium's 16 blocks of transactions, empty blocks, one more
// transaction (a commission) among them, and more empty blocks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GTIN } from './consortium.mjs';
import { overflowX, screenShot, setup, SIZES } from './harness.mjs';

const height = async (url) => (await (await fetch(`${url}/v1/status`)).json()).height;
async function waitHeight(url, h) {
  for (let i = 0; i < 600 && (await height(url)) < h; i++) await new Promise((r) => setTimeout(r, 200));
  assert.ok((await height(url)) >= h, `the chain reached height ${h}`);
}

let busy; // the block of the commission
let commissionTx;
const S = setup({
  prepare: async (net) => {
    await waitHeight(net.url, 34);
    const out = net.mc('drug', 'commission', '--key', 'mfr.json', '--gtin', GTIN, '--lot', 'LOT2027B', '--expiry', '2031-01-31',
      '--count', '2', '--prefix', 'NX');
    busy = Number(/height: (\d+)/.exec(out)[1]);
    const b = await (await fetch(`${net.url}/v1/block/${busy}`)).json();
    commissionTx = b.txs[0];
    await waitHeight(net.url, busy + 20);
  },
});

const rows = (page) => page.locator('#blocks-table tbody tr').evaluateAll((trs) => trs.map((t) => [Number(t.dataset.height), Number(t.dataset.txs)]));

for (const [size, viewport] of SIZES) {
  test(`explorer (${size}): paging, hiding empty blocks, relative times in the named time zone`, async () => {
    const page = await S.newPage(viewport, { timezoneId: 'Europe/Berlin' });
    await page.goto('/explorer');
    await page.locator('#blocks-table').waitFor();
    const first = await rows(page);
    assert.equal(first.length, 15);
    for (let i = 1; i < first.length; i++) assert.equal(first[i][0], first[i - 1][0] - 1, 'consecutive, newest first');
    assert.ok(first[0][0] >= busy + 20);
    assert.match(await page.locator('#blocks-table caption').innerText(), /Times in your time zone \(Europe\/Berlin, UTC\+01:00\)/);
    assert.match(await page.locator('#blocks-table tbody tr').first().locator('time').innerText(), /(just now|seconds? ago|minutes? ago)\n\d+ \w+ 20\d\d, \d\d:\d\d/);
    assert.equal(await page.locator('#blocks-newer').isDisabled(), true, 'nothing newer than the latest');

    // Older, then newer again.
    await page.click('#blocks-older');
    await page.waitForFunction((top) => Number(document.querySelector('#blocks-table tbody tr').dataset.height) === top - 15, first[0][0]);
    const older = await rows(page);
    assert.equal(older[0][0], first[0][0] - 15);
    await page.click('#blocks-newer');
    await page.waitForFunction((top) => Number(document.querySelector('#blocks-table tbody tr').dataset.height) === top, first[0][0]);

    // Empty blocks hidden: the commission's block, then the consortium's
    // blocks (15 a page). Which of the consortium's blocks hold
    // transactions is asked of the node (the node's own entries, such as an
    // access entry, may land in the block after the one that caused them),
    // so the page must show exactly the non-empty ones, newest first.
    const nonEmpty = [];
    for (let h = busy; h >= 1; h--) {
      const b = await (await fetch(`${S.net.url}/v1/block/${h}`)).json();
      if (b.txs.length) nonEmpty.push(h);
    }
    assert.equal(nonEmpty[0], busy);
    assert.ok(nonEmpty.length > 15 && nonEmpty.length <= 30, `two pages of non-empty blocks (${nonEmpty.length})`);
    await page.check('#hide-empty');
    await page.waitForFunction((b) => Number(document.querySelector('#blocks-table tbody tr')?.dataset.height) === b, busy);
    const busyRows = await rows(page);
    assert.deepEqual(busyRows.map((r) => r[0]), nonEmpty.slice(0, 15));
    assert.ok(busyRows.every((r) => r[1] > 0));
    await screenShot(page, `explorer-nonempty-${size}`);
    await page.click('#blocks-older');
    await page.waitForFunction((top) => document.querySelector('#blocks-table tbody tr')?.dataset.height === String(top), nonEmpty[15]);
    assert.deepEqual((await rows(page)).map((r) => r[0]), nonEmpty.slice(15));
    assert.equal(nonEmpty[nonEmpty.length - 1], 1, 'block 1 holds the first enrolment');
    assert.equal(await page.locator('#blocks-older').isDisabled(), true, 'nothing older than block 1');
    await page.click('#blocks-newer');
    await page.waitForFunction((b) => Number(document.querySelector('#blocks-table tbody tr')?.dataset.height) === b, busy);

    // Nothing wider than the screen, the validators table included.
    await page.locator('#validators-table').waitFor();
    assert.equal(await overflowX(page), 0, 'no sideways scrolling');
    for (const id of ['#validators', '#blocks']) {
      assert.ok(await page.locator(id).evaluate((e) => e.scrollWidth <= e.clientWidth + 1), `${id} fits the screen`);
    }
    if (size === 'phone') {
      // One card a validator, each value labelled by its column.
      const labels = await page.locator('#validators-table tbody tr').first().locator('td')
        .evaluateAll((tds) => tds.map((td) => getComputedStyle(td, '::before').content));
      assert.deepEqual(labels, ['"Validator"', '"Organisation"', '"Power"', '"Block"', '"Node key"']);
      assert.match(await page.locator('#validators-table tbody tr').first().innerText(), /St Mary's Hospital/);
      await page.locator('#validators-table').scrollIntoViewIfNeeded();
      await screenShot(page, 'explorer-validators-phone');
    }
    assert.deepEqual(page.errors, []);
  });

  test(`explorer (${size}): search by height, block hash, transaction id, account, organisation and GTIN; content decoded; senders named`, async () => {
    const page = await S.newPage(viewport);
    await page.goto('/explorer');
    await page.locator('#blocks-table').waitFor();
    await page.fill('#tx-id', '5');
    await page.click('#tx-form button[type=submit]');
    await page.locator('#block h3', { hasText: 'Block 5' }).waitFor();
    const seven = await (await fetch(`${S.net.url}/v1/block/7`)).json();
    await page.fill('#tx-id', seven.hash.toUpperCase());
    await page.click('#tx-form button[type=submit]');
    await page.locator('#block h3', { hasText: 'Block 7' }).waitFor();
    assert.match(await page.locator('#block').innerText(), /The header bytes hash to this block hash/);
    await page.locator('#block a', { hasText: 'Older block' }).click();
    await page.locator('#block h3', { hasText: 'Block 6' }).waitFor();

    await page.fill('#tx-id', commissionTx);
    await page.click('#tx-form button[type=submit]');
    await page.locator('#proof-verdict[data-ok="true"]').waitFor();
    assert.match(await page.locator('#tx').innerText(), /Line One, manufacturer at Acme Pharma/);
    // Its content decoded: the GTIN, the lot and the serials commissioned.
    assert.match(await page.locator('#tx-content').innerText(), /gtin\s+09506000134352[\s\S]*lot\s+LOT2027B[\s\S]*expiry\s+2031-01-31[\s\S]*serials\s+2: NX1; NX2/);

    // An account by its key, an organisation by name, a GTIN with no product registered.
    await page.fill('#tx-id', S.net.pub('mfr'));
    await page.click('#tx-form button[type=submit]');
    await page.locator('#account-card h3', { hasText: 'Line One' }).waitFor();
    assert.match(await page.locator('#account-card').innerText(), /manufacturer[\s\S]*Acme Pharma/);
    const val = (await (await fetch(`${S.net.url}/v1/validators`)).json()).validators[0];
    await page.fill('#tx-id', val.node_key);
    await page.click('#tx-form button[type=submit]');
    await page.locator('#account-card h3', { hasText: `node ${val.name}` }).waitFor();
    await page.fill('#tx-id', 'acme');
    await page.click('#tx-form button[type=submit]');
    await page.locator('#org-card h3', { hasText: 'Acme Pharma' }).waitFor();
    await page.locator('#org-members a', { hasText: 'Line One' }).waitFor();
    await page.fill('#tx-id', 'pharmacist pat');
    await page.click('#tx-form button[type=submit]');
    await page.locator('#search-results a', { hasText: 'Pharmacist Pat' }).waitFor();
    await page.fill('#tx-id', '09506000134352');
    await page.click('#tx-form button[type=submit]');
    await page.locator('#search-none', { hasText: /no product is registered with GTIN 09506000134352/ }).waitFor();

    await page.fill('#tx-id', 'ab'.repeat(32));
    await page.click('#tx-form button[type=submit]');
    await page.locator('#search-none').waitFor({ timeout: 30000 });
    assert.match(await page.locator('#search-none').innerText(), /Nothing found: no transaction, block or account has this id/);
    await page.fill('#tx-id', '999999');
    await page.click('#tx-form button[type=submit]');
    await page.locator('#search-none', { hasText: /no block at height 999999/ }).waitFor();
    assert.equal(await overflowX(page), 0);
    await screenShot(page, `explorer-search-${size}`);
    // The searches that found nothing were 404 answers of the node; nothing else.
    assert.deepEqual(page.errors.filter((e) => !/status of 404/.test(e)), []);
  });
}
