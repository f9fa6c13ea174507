// Governance in the explorer: proposals made and voted on through the CLI
// (`medchain gov propose|vote`) are listed with their status and tally, a
// proposal opens with each organisation's vote, and the validator set of
// any height can be shown. The consortium: one validator and five
// organisations; proposal 1 (a ledger parameter) passes with four of five
// and takes effect, proposal 2 (removing the regulator) has one yes and
// two no and stays open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axeViolations, overflowX, screenShot, setup, SIZES } from './harness.mjs';

const height = async (url) => (await (await fetch(`${url}/v1/status`)).json()).height;
async function waitHeight(url, h) {
  for (let i = 0; i < 600 && (await height(url)) < h; i++) await new Promise((r) => setTimeout(r, 200));
  assert.ok((await height(url)) >= h, `the chain reached height ${h}`);
}

let activation;
const S = setup({
  prepare: async (net) => {
    const out = net.mc('gov', 'propose', 'set-param', '--param', 'block_txs', '--value', '5000',
      '--deadline', '+6', '--activation', '+8', '--key', 'node/admin_key.json');
    activation = Number(/activation: (\d+)/.exec(out)[1]);
    for (const k of ['node/admin_key', 'mfr_admin', 'dist_admin', 'ph_admin']) net.mc('gov', 'vote', '1', '--yes', '--key', `${k}.json`);
    net.mc('gov', 'propose', 'remove-org', '--org', '5', '--key', 'mfr_admin.json');
    net.mc('gov', 'vote', '2', '--yes', '--key', 'mfr_admin.json');
    net.mc('gov', 'vote', '2', '--no', '--key', 'dist_admin.json');
    net.mc('gov', 'vote', '2', '--no', '--key', 'ph_admin.json');
    await waitHeight(net.url, activation + 1);
  },
});

test('the CLI refuses a second vote by the same organisation, with the reason', () => {
  assert.throws(() => S.net.mc('gov', 'vote', '2', '--yes', '--key', 'ph_admin.json'),
    (e) => /organisation 4 already voted on proposal 2/i.test(String(e.stderr)));
});

for (const [size, viewport] of SIZES) {
  test(`explorer (${size}): proposals with status and votes; the validator set of a height`, async () => {
    const page = await S.newPage(viewport);
    await page.goto('/explorer');
    await page.locator('#gov-table').waitFor();
    const rows = await page.locator('#gov-table tbody tr').evaluateAll((trs) => trs.map((t) => [t.dataset.id, t.innerText]));
    assert.deepEqual(rows.map((r) => r[0]), ['2', '1'], 'newest first');
    assert.match(rows[1][1], /Set block_txs to 5000/);
    assert.match(rows[1][1], /applied/);
    assert.match(rows[1][1], /4 yes, 0 no of 5/);
    assert.match(rows[0][1], /Remove organisation 5/);
    assert.match(rows[0][1], /open/);
    assert.match(rows[0][1], /1 yes, 2 no of 5/);
    await page.click('#gov-table a[href="#proposal=1"]');
    await page.locator('#votes-table').waitFor();
    const votes = await page.locator('#votes-table tbody tr').evaluateAll((trs) => trs.map((t) => t.innerText));
    assert.equal(votes.length, 4);
    assert.ok(votes.some((v) => /St Mary's Hospital/.test(v) && /yes/.test(v)), votes.join(' | '));
    assert.ok(votes.some((v) => /Acme Pharma/.test(v)), votes.join(' | '));
    // The set of height 1, then of the latest block again.
    await page.fill('#val-height', '1');
    await page.click('#val-form button');
    await page.waitForFunction(() => document.querySelector('#validators-table')?.dataset.height === '1');
    assert.match(await page.locator('#validators-table caption').innerText(), /height 1 \(in force from height 1\)/);
    assert.equal(await page.locator('#validators-table tbody tr').count(), 1);
    assert.equal(await overflowX(page), 0, 'no sideways scrolling');
    for (const id of ['#gov', '#validators']) {
      assert.ok(await page.locator(id).evaluate((e) => e.scrollWidth <= e.clientWidth + 1), `${id} fits the screen`);
    }
    assert.deepEqual(await axeViolations(page), []);
    await screenShot(page, `explorer-governance-${size}`);
    assert.deepEqual(page.errors, []);
  });
}
