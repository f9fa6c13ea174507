// Shared set-up of the browser test files that came after web.test.mjs: a
// real local consortium (consortium.mjs), Debian's chromium through
// playwright-core, pages that collect script errors, screenshots into
// $MEDCHAIN_SCREENSHOTS (default build/screenshots), and the two screen
// sizes every journey is checked at.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { after, afterEach, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startConsortium } from './consortium.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'web/package.json'));
const { chromium } = require('playwright-core');
export const BIN = process.env.MEDCHAIN_BIN || join(root, 'build/medchain');
const CHROMIUM = process.env.MEDCHAIN_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.MEDCHAIN_SCREENSHOTS || join(root, 'build/screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const SIZES = [['desktop', DESKTOP], ['phone', PHONE]];

// setup() registers the before/after hooks of a test file and returns the
// live state: { net, browser } once before() has run. prepare(net) runs
// after the consortium is up (extra records, files).
export function setup({ prepare } = {}) {
  const state = { net: null, browser: null, contexts: [] };
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    state.net = await startConsortium(BIN);
    if (prepare) await prepare(state.net);
    state.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    for (const c of state.contexts) await c.close().catch(() => {});
    if (state.browser) await state.browser.close().catch(() => {});
    if (state.net) await state.net.stop();
  });
  afterEach(async (t) => {
    if (t.passed === false || process.exitCode) {
      let i = 0;
      for (const c of state.contexts) {
        for (const p of c.pages()) await shot(p, `failed-${t.name.slice(0, 20).replace(/\W+/g, '-')}-${i++}`).catch(() => {});
      }
    }
  });
  // A fresh browser context (its own storage), the page failing on script
  // errors; colorScheme 'light' or 'dark'.
  state.newPage = async (viewport = DESKTOP, { colorScheme = 'light', timezoneId } = {}) => {
    const ctx = await state.browser.newContext({ baseURL: state.net.url, viewport, colorScheme, timezoneId });
    state.contexts.push(ctx);
    const page = await ctx.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
    page.setDefaultTimeout(20000);
    return page;
  };
  return state;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export async function loadKey(page, file) {
  await page.locator('#key-file').setInputFiles(file);
  await page.locator('.keypanel .who').waitFor();
}

// The page's width beyond the viewport (0 when nothing overflows sideways).
export async function overflowX(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

const AXE = readFileSync(join(root, 'web/node_modules/axe-core/axe.min.js'), 'utf8');

// axe-core run over the page as it is now; the violations of impact
// serious or critical, each as "rule: target (summary)". The script is
// evaluated through the DevTools protocol, so the page's CSP (script-src
// 'self') is left as it is.
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => ({
      target: n.target.join(' '), summary: n.failureSummary, impact: n.impact })) }));
  });
  const bad = [];
  for (const v of res) {
    for (const n of v.nodes) {
      if (n.impact === 'serious' || n.impact === 'critical') bad.push(`${v.id}: ${n.target} (${(n.summary || '').replace(/\s+/g, ' ').slice(0, 200)})`);
    }
  }
  return bad;
}

// What the screen shows now (not the whole page): for long pages.
export async function screenShot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}
