// Passphrase-protected key files in the browser: a key file written by the
// real CLI (`medchain keygen --passphrase-file`, Argon2id) opens in the page
// after its passphrase (a wrong one is refused with a sentence); the key is
// saved on the device protected by a passphrase (the same format), unlocked
// on a later visit without the file, downloaded as a protected backup the
// CLI itself opens, and forgotten.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, screenShot, setup, SIZES, DESKTOP } from './harness.mjs';

const PASS = 'correct horse battery staple';
const S = setup({
  prepare: (net) => {
    const run = (...args) => execFileSync(BIN, args, { cwd: net.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    writeFileSync(join(net.dir, 'pp.txt'), `${PASS}\n`);
    run('keygen', '--out', 'pp.json', '--passphrase-file', 'pp.txt');
    run('patient', 'register', '--key', 'ada.json', '--patient-key', 'pp.json', '--patient-passphrase-file', 'pp.txt', '--node', net.url);
    net.run = run;
  },
});

async function openWithPassphrase(page) {
  await page.goto('/patient');
  await page.locator('#key-file').setInputFiles(join(S.net.dir, 'pp.json'));
  await page.locator('#key-file-pass').waitFor();
  await page.fill('#key-file-pass', 'not the passphrase');
  await page.click('#key-file-unlock button[type=submit]');
  const err = page.locator('#key-error');
  await err.waitFor({ timeout: 30000 });
  assert.match(await err.innerText(), /^Wrong passphrase: this key file does not open with it/);
  assert.equal(await page.locator('.keypanel .who').count(), 0, 'not signed in');
  await page.fill('#key-file-pass', PASS);
  await page.click('#key-file-unlock button[type=submit]');
  await page.locator('.keypanel .who').waitFor({ timeout: 30000 });
}

for (const [size, viewport] of SIZES) {
  test(`a passphrase key file from the CLI opens in the page (${size}); a wrong passphrase is refused`, async () => {
    const page = await S.newPage(viewport);
    const file = JSON.parse(readFileSync(join(S.net.dir, 'pp.json'), 'utf8'));
    assert.equal(file.kdf, 'argon2id13', 'the CLI wrote the passphrase form');
    await openWithPassphrase(page);
    assert.equal(await page.locator('.keypanel .who').innerText(), 'Your patient account');
    assert.equal(await page.locator('.keypanel .mono').innerText(), file.public_key);
    await page.locator('#portal:not(.hidden)').waitFor();
    await screenShot(page, `keyfile-opened-${size}`);
    assert.deepEqual(page.errors, []);
  });
}

test('a key saved on this device under a passphrase unlocks later without the file, backs up, and is forgotten', async () => {
  const page = await S.newPage(DESKTOP);
  await openWithPassphrase(page);
  const pk = JSON.parse(readFileSync(join(S.net.dir, 'pp.json'), 'utf8')).public_key;

  await page.locator('#key-keep summary').click();
  await page.fill('#save-pass', 'my phone passphrase');
  await page.fill('#save-pass2', 'my phone passphrase!');
  await page.click('#save-key');
  assert.match(await page.locator('#key-error').innerText(), /the two passphrases differ/);
  await page.fill('#save-pass2', 'my phone passphrase');
  await page.click('#save-key');
  await page.locator('#key-saved-done').waitFor({ timeout: 30000 });
  // Stored as the CLI's passphrase form, nothing of the seed in clear.
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('medchain.keys.v2')));
  const saved = JSON.parse(stored[pk].file);
  assert.deepEqual(Object.keys(saved).sort(), ['kdf', 'medchain_key', 'memlimit', 'nonce', 'opslimit', 'public_key', 'salt', 'sealed_seed']);
  assert.equal(saved.kdf, 'argon2id13');
  assert.equal(saved.public_key, pk);

  // A protected backup: downloaded, and the CLI opens it with that passphrase.
  await page.fill('#save-pass', 'backup passphrase 1');
  await page.fill('#save-pass2', 'backup passphrase 1');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-protected')]);
  const backup = join(S.net.dir, 'backup.json');
  await dl.saveAs(backup);
  assert.equal(JSON.parse(readFileSync(backup, 'utf8')).kdf, 'argon2id13');
  writeFileSync(join(S.net.dir, 'backup.txt'), 'backup passphrase 1\n');
  const listed = S.net.run('record', 'list', '--key', 'backup.json', '--passphrase-file', 'backup.txt', '--node', S.net.url);
  assert.ok(typeof listed === 'string', 'the CLI reads the key file the page wrote');
  writeFileSync(join(S.net.dir, 'wrong.txt'), 'another passphrase\n');
  assert.throws(() => S.net.run('record', 'list', '--key', 'backup.json', '--passphrase-file', 'wrong.txt', '--node', S.net.url),
    /wrong passphrase/);

  // A later visit: no file, the saved key and its passphrase.
  await page.reload();
  await page.locator('#key-saved').waitFor();
  assert.match(await page.locator('#key-saved').innerText(), new RegExp(pk.slice(0, 8)));
  await page.fill('#key-pass', 'wrong one');
  await page.click('#key-unlock');
  await page.locator('#key-error').waitFor({ timeout: 30000 });
  assert.match(await page.locator('#key-error').innerText(), /^Wrong passphrase/);
  await page.fill('#key-pass', 'my phone passphrase');
  await page.click('#key-unlock');
  await page.locator('.keypanel .who').waitFor({ timeout: 30000 });
  assert.equal(await page.locator('.keypanel .mono').innerText(), pk);
  await screenShot(page, 'keyfile-unlocked-saved');

  // Forgotten: gone from this device.
  await page.click('#forget-key');
  await page.reload();
  await page.locator('#key-file').waitFor();
  assert.equal(await page.locator('#key-saved').count(), 0);
  assert.equal(await page.evaluate(() => Object.keys(JSON.parse(localStorage.getItem('medchain.keys.v2') || '{}')).length), 0);
  assert.deepEqual(page.errors, []);
});

test('a damaged passphrase key file is refused with a sentence', async () => {
  const page = await S.newPage(DESKTOP);
  const f = JSON.parse(readFileSync(join(S.net.dir, 'pp.json'), 'utf8'));
  const bad = { ...f, sealed_seed: (f.sealed_seed[0] === '0' ? '1' : '0') + f.sealed_seed.slice(1) };
  writeFileSync(join(S.net.dir, 'bad.json'), JSON.stringify(bad));
  await page.goto('/patient');
  await page.locator('#key-file').setInputFiles(join(S.net.dir, 'bad.json'));
  await page.fill('#key-file-pass', PASS);
  await page.click('#key-file-unlock button[type=submit]');
  await page.locator('#key-error').waitFor({ timeout: 30000 });
  assert.match(await page.locator('#key-error').innerText(), /does not open with it \(or the file was altered\)/);
  writeFileSync(join(S.net.dir, 'bad2.json'), JSON.stringify({ ...f, memlimit: 4 * 1073741824 }));
  await page.locator('#key-file').setInputFiles(join(S.net.dir, 'bad2.json'));
  await page.locator('#key-error', { hasText: /"memlimit" must be an integer/ }).waitFor();
  assert.equal(await page.locator('#key-file-pass').count(), 0, 'no passphrase asked for a file refused as damaged');
  assert.equal(await page.locator('.keypanel .who').count(), 0);
});
