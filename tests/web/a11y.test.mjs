// Accessibility of every page, in both colour schemes: axe-core (npm,
// pinned in web/package-lock.json) run inside each page as a user sees it
// (signed in where the page is for someone, with its content loaded), at
// desktop and phone size. Any violation of impact serious or critical (WCAG
// 2.1 AA colour contrast among them) fails the test and is listed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GTIN } from './consortium.mjs';
import { axeViolations, loadKey, setup, shot, DESKTOP, PHONE } from './harness.mjs';

const S = setup();

// Each page brought to the state a user looks at.
const PAGES = [
  ['home', async (p) => { await p.goto('/'); await p.locator('footer.site').getByText(/Chain medchain-web/).waitFor(); }],
  ['patient', async (p) => {
    await p.goto('/patient');
    await loadKey(p, S.net.keyFile('patient'));
    await p.locator('#record-list li.decrypted').first().waitFor();
    await p.locator('#access-log, #log p').first().waitFor();
  }],
  ['clinician', async (p) => {
    await p.goto('/clinician');
    await loadKey(p, S.net.keyFile('ada'));
    await p.fill('#patient', S.net.pub('patient'));
    await p.selectOption('#rtype', 'Condition');
    await p.click('#read');
    await p.locator('#read-out h3, #read-out .note').first().waitFor();
  }],
  ['auditor', async (p) => {
    await p.goto('/auditor');
    await loadKey(p, S.net.keyFile('aud'));
    await p.locator('#audit-table, #bg-none').first().waitFor();
  }],
  ['admin', async (p) => {
    await p.goto('/admin');
    await loadKey(p, S.net.keyFile('node/admin_key'));
    await p.fill('#member-name', 'Dr Test Member');
    await p.click('#member-go');
    await p.locator('#member-made').waitFor();
    await p.locator('#member-directory').waitFor();
  }],
  ['join', async (p) => {
    const inv = /code: ([A-Z2-9-]{14})/.exec(S.net.mc('invite', 'create', '--key', 'node/admin_key.json', '--member',
      '--role', 'auditor', '--name', 'A New Auditor'))[1];
    await p.goto(`/join#invite=${inv}`);
    await p.click('#key-create');
    await p.locator('#join-who').waitFor();
  }],
  ['verify', async (p) => {
    await p.goto('/verify');
    await p.fill('#code', `(01)${GTIN}(17)300630(10)LOT2026A(21)FAKE42`);
    await p.click('#code-form button[type=submit]');
    await p.locator('#verdict[data-verdict]').waitFor();
  }],
  ['research', async (p) => {
    await p.goto('/research');
    await p.fill('#study-id', 'ASTHMA-1');
    await p.click('#study-form button[type=submit]');
    await p.locator('#verify-verdict').waitFor();
  }],
  ['explorer', async (p) => {
    const b = await (await fetch(`${S.net.url}/v1/block/2`)).json();
    await p.goto(`/explorer#tx=${b.txs[0]}`);
    await p.locator('#proof-verdict').waitFor({ timeout: 120000 }); // the whole proof is checked in the page: over 60 s on a machine at load 15
    await p.locator('#blocks table').waitFor();
    await p.locator('#validators table').waitFor();
  }],
];

for (const scheme of ['light', 'dark']) {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`accessibility: every page, ${scheme} colour scheme, ${size}: no serious or critical axe violation`, async () => {
      const problems = [];
      for (const [name, open] of PAGES) {
        const page = await S.newPage(viewport, { colorScheme: scheme });
        await open(page);
        assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), scheme === 'dark');
        for (const v of await axeViolations(page)) problems.push(`${name}: ${v}`);
        // Closed details are not checked by axe: open them and check again.
        await page.evaluate(() => { for (const d of document.querySelectorAll('details')) d.open = true; });
        for (const v of await axeViolations(page)) if (!problems.includes(`${name}: ${v}`)) problems.push(`${name}: ${v}`);
        if (size === 'desktop' || name === 'patient') await shot(page, `a11y-${name}-${scheme}-${size}`);
        assert.deepEqual(page.errors.filter((e) => !/status of 40[34]/.test(e)), [], `${name}: script errors`);
        await page.context().close();
      }
      assert.deepEqual(problems, [], `axe found ${problems.length} serious or critical problems:\n${problems.join('\n')}`);
    });
  }
}

// The checker really catches what it is for: a page given a low-contrast
// button fails it.
test('accessibility: the check fails a page with a low-contrast button', async () => {
  const page = await S.newPage(DESKTOP, { colorScheme: 'dark' });
  await page.goto('/');
  await page.locator('footer.site').getByText(/Chain medchain-web/).waitFor();
  await page.evaluate(() => {
    const b = document.createElement('button');
    b.textContent = 'Low contrast';
    b.style.cssText = 'background:#6cb4ff;color:#fff;border-color:#6cb4ff';
    document.querySelector('main').append(b);
  });
  const v = await axeViolations(page);
  assert.ok(v.some((x) => x.startsWith('color-contrast:')), v.join('\n'));
});
