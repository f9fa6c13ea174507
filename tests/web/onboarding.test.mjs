// Onboarding by invitation, end to end with no key file handled by anyone:
// Dr Ada invites a new patient from the clinician page; the patient (on a
// phone, or a desktop) makes her key in her browser, saves it on the device
// with a passphrase, accepts the invitation; both pages show the same match
// code; Dr Ada registers her; the patient's portal opens by itself; she
// grants Dr Ada by name; Dr Ada finds her by the label she typed, and the
// CLI's invite commands do the same journey.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, loadKey, screenShot, setup, SIZES } from './harness.mjs';

const S = setup();

for (const [size, viewport] of SIZES) {
  test(`a new patient joins by invitation (${size})`, { timeout: 120000 }, async () => {
    const label = `Jane Doe ${size} MRN-${size.length}4711`;
    const ada = await S.newPage();
    await ada.goto('/clinician');
    await loadKey(ada, S.net.keyFile('ada'));
    await ada.fill('#invite-label', label);
    await ada.click('#invite-go');
    const code = await ada.locator('#invite-code').innerText();
    assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    // ...and its link as a QR code for her phone's camera
    await ada.waitForFunction(() => document.querySelector('#invite-qr').complete && document.querySelector('#invite-qr').naturalWidth > 0);
    await ada.locator('#invitations li', { hasText: `${code} for ${label}` }).waitFor();

    // The patient opens the link on her phone and makes her key there.
    const pat = await S.newPage(viewport);
    await pat.goto(`/patient#invite=${code}`);
    await pat.click('#key-create');
    await pat.locator('#invite-who', { hasText: "Dr Ada Lovelace at St Mary's Hospital invites you" }).waitFor();
    await pat.fill('#save-pass', 'a long enough passphrase');
    await pat.fill('#save-pass2', 'a long enough passphrase');
    await pat.click('#save-key');
    await pat.locator('#key-saved-done').waitFor();
    await pat.click('#invite-accept');
    const shown = (await pat.locator('#invite-match').innerText()).replace(/\s/g, '');
    assert.match(shown, /^\d{6}$/);
    await screenShot(pat, `onboarding-patient-${size}`);

    // Dr Ada sees the same number and registers her.
    await ada.click('#invite-refresh');
    const row = ada.locator('#invitations li.accepted', { hasText: code });
    await row.waitFor();
    assert.equal((await row.locator('.match').innerText()).replace(/\s/g, ''), shown);
    await row.locator('button[data-register]').click();
    await ada.locator('#invitations li', { hasText: `${label} is registered` }).waitFor();

    // Her portal opens by itself.
    await pat.locator('#portal:not(.hidden)').waitFor({ timeout: 30000 });
    await pat.getByText('No records about you yet.').first().waitFor();
    // She grants Dr Ada by name.
    await pat.fill('#grant-find', 'ada love');
    await pat.locator('#grant-found button.pick', { hasText: "Dr Ada Lovelace, clinician at St Mary's Hospital" }).click();
    await pat.check('#cat-problems');
    await pat.click('#grant-go');
    await pat.locator('#grant-done').waitFor();
    await pat.locator('#grant-list').getByText('Dr Ada Lovelace').waitFor();

    // Her code, shown on her page, read by Dr Ada's page from a photo of it.
    await pat.locator('#my-code-box summary').click();
    await pat.waitForFunction(() => document.querySelector('#my-code').complete && document.querySelector('#my-code').naturalWidth > 0);
    const photo = await pat.locator('#my-code').screenshot();
    await ada.locator('#patient-scan').setInputFiles({ name: 'code.png', mimeType: 'image/png', buffer: photo });
    await ada.locator('#patient-chosen', { hasText: `Chosen from her code: ${label}` }).waitFor();
    const viaCode = await ada.inputValue('#patient');
    await ada.fill('#patient', '');
    // Dr Ada finds her by the label she typed, never by hex.
    await ada.fill('#patient-find', label.split(' ')[1]);
    await ada.locator('#patient-found button.pick', { hasText: label }).click();
    assert.match(await ada.inputValue('#patient'), /^[0-9a-f]{64}$/);
    assert.equal(await ada.inputValue('#patient'), viaCode, 'the code and the label name the same patient');
    await ada.click('#read');
    await ada.locator('#read-out').getByText(/./).first().waitFor();
    // (the only console error: the ledger answering 404 for her key before she is registered)
    assert.deepEqual(pat.errors.filter((e) => !/status of 404/.test(e)), []);
    assert.deepEqual(ada.errors.filter((e) => !/status of 40[34]/.test(e)), []);
  });
}

test('the CLI invites, the patient accepts with her key, the clinician registers', { timeout: 60000 }, () => {
  const { mc } = S.net;
  const run = (...args) => execFileSync(BIN, args, { cwd: S.net.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const out = mc('invite', 'create', '--key', 'ada.json');
  const code = /code: ([A-Z2-9-]{14})/.exec(out)[1];
  run('keygen', '--out', 'cli-patient.json');
  const acc = mc('invite', 'accept', code, '--patient-key', 'cli-patient.json');
  const m = /match_code: (\d{6})/.exec(acc)[1];
  const list = mc('invite', 'list', '--key', 'ada.json');
  assert.match(list, new RegExp(`${code} accepted match_code ${m}`));
  const reg = mc('invite', 'register', code, '--key', 'ada.json');
  assert.match(reg, /registered: [0-9a-f]{64}/);
  assert.throws(() => mc('invite', 'accept', code, '--patient-key', 'cli-patient.json'), /already/);
});

// A new member is enrolled by invitation from the admin's page, the same
// way: the admin names her and her role, her key is made and saved in her
// own browser, she accepts, the match codes agree, the admin enrols her,
// and she signs in on her role's page with the key saved on her device.
for (const [size, viewport] of SIZES) {
  test(`a new member is enrolled by invitation (${size})`, { timeout: 120000 }, async () => {
    const name = `Dr Grace Hopper ${size}`;
    const admin = await S.newPage(viewport);
    await admin.goto('/admin');
    await loadKey(admin, S.net.keyFile('node/admin_key'));
    assert.deepEqual(await admin.locator('#member-role option').allInnerTexts(),
      ['Clinician', 'Pharmacist', 'Researcher', 'Pharmacy staff', 'Auditor'], 'the roles a hospital may hold');
    await admin.fill('#member-name', name);
    await admin.selectOption('#member-role', 'clinician');
    await admin.click('#member-go');
    const code = await admin.locator('#member-code').innerText();
    assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    await admin.waitForFunction(() => document.querySelector('#member-qr').complete && document.querySelector('#member-qr').naturalWidth > 0);
    assert.match(await admin.getAttribute('#member-link', 'href'), new RegExp(`^/join#invite=${code}$`));
    await admin.locator('#member-invitations li', { hasText: `${code} for ${name} (clinician)` }).waitFor();

    if (size === 'desktop') {
      // opened on the patient page by mistake, it says where it belongs
      const wrong = await S.newPage(viewport);
      await wrong.goto(`/patient#invite=${code}`);
      await wrong.click('#key-create');
      await wrong.locator('#invite-staff a', { hasText: 'Open it on the page for joining an organisation' }).waitFor();
      assert.equal(await wrong.getAttribute('#invite-staff a', 'href'), `/join#invite=${code}`);
      await wrong.context().close();
    }

    // She opens the link on her own device and makes her key there.
    const grace = await S.newPage(viewport);
    let chooser = false;
    grace.on('filechooser', () => { chooser = true; });
    await grace.goto(`/join#invite=${code}`);
    await grace.click('#key-create');
    await grace.locator('#join-who', { hasText: `of St Mary's Hospital invites you to join as clinician, named "${name}"` }).waitFor();
    await grace.fill('#save-pass', 'grace passphrase 1906');
    await grace.fill('#save-pass2', 'grace passphrase 1906');
    await grace.click('#save-key');
    await grace.locator('#key-saved-done').waitFor();
    await grace.click('#join-accept');
    const shown = (await grace.locator('#join-match').innerText()).replace(/\s/g, '');
    assert.match(shown, /^\d{6}$/);
    await screenShot(grace, `enrol-member-${size}`);

    // The admin sees the same number and enrols her.
    await admin.click('#member-refresh');
    const row = admin.locator('#member-invitations li.accepted', { hasText: code });
    await row.waitFor();
    assert.equal((await row.locator('.match').innerText()).replace(/\s/g, ''), shown);
    await row.locator('button[data-enrol]').click();
    await admin.locator('#member-invitations li', { hasText: `${name} (clinician) is a member now` }).waitFor();
    await admin.locator('#member-directory li', { hasText: `${name}, clinician` }).waitFor();
    await screenShot(admin, `enrol-admin-${size}`);

    // Her page says so by itself and leads to her page, where the key saved
    // on her device opens with her passphrase: no file at any step.
    await grace.locator('#join-done', { hasText: `Welcome, ${name} — clinician at St Mary's Hospital` }).waitFor({ timeout: 30000 });
    await grace.click('#join-open');
    await grace.waitForURL(/\/clinician$/);
    await grace.fill('#key-pass', 'grace passphrase 1906');
    await grace.click('#key-unlock');
    await grace.locator('.keypanel .who', { hasText: `${name} — clinician at St Mary's Hospital` }).waitFor();
    await grace.locator('#work:not(.hidden)').waitFor();
    assert.equal(chooser, false, 'she never chose a key file');
    // Her admin can revoke her from the same page, with a reason.
    const line = admin.locator('#member-directory li', { hasText: `${name}, clinician` });
    const key = await line.getAttribute('data-key');
    await line.locator('details.revoke summary').click();
    await line.locator('input.revoke-reason').fill('left the hospital');
    await line.locator('button[data-revoke]').click();
    await admin.locator('#member-directory li', { hasText: 'Dr Ada Lovelace' }).waitFor();
    await admin.waitForFunction((n) => ![...document.querySelectorAll('#member-directory li')].some((li) => li.textContent.includes(n)), name);
    assert.equal((await (await fetch(`${S.net.url}/v1/account/${key}`)).json()).status, 'revoked');
    assert.equal(await admin.locator('#member-directory li', { hasText: 'admin of St Mary' }).locator('button[data-revoke]').count(), 0,
      'an admin is not offered to revoke an admin');
    // a used invitation cannot be accepted again
    const again = await fetch(`${S.net.url}/v1/invitations/${code}`);
    assert.equal(again.status, 200);
    assert.equal((await again.json()).state, 'accepted');
    assert.deepEqual(grace.errors.filter((e) => !/status of 404/.test(e)), []);
    assert.deepEqual(admin.errors, []);
  });
}

test('the CLI invites a member, she accepts with her key, the admin enrolls her', { timeout: 60000 }, () => {
  const { mc } = S.net;
  const run = (...args) => execFileSync(BIN, args, { cwd: S.net.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.throws(() => mc('invite', 'create', '--key', 'ada.json', '--member', '--role', 'auditor', '--name', 'Ann Other'),
    /only an organisation's admin invites members/i);
  assert.throws(() => mc('invite', 'create', '--key', 'node/admin_key.json', '--member', '--role', 'manufacturer', '--name', 'X'),
    /hospital organisation has no manufacturer members/i);
  const out = mc('invite', 'create', '--key', 'node/admin_key.json', '--member', '--role', 'auditor', '--name', 'Ann Other');
  assert.match(out, /for: member/);
  assert.match(out, /link: http:\/\/127\.0\.0\.1:\d+\/join#invite=/);
  const code = /code: ([A-Z2-9-]{14})/.exec(out)[1];
  run('keygen', '--out', 'cli-member.json');
  assert.throws(() => mc('invite', 'accept', code, '--patient-key', 'cli-member.json'), /is for a member: accept it with --member-key/);
  const acc = mc('invite', 'accept', code, '--member-key', 'cli-member.json');
  assert.match(acc, /joining as: auditor "Ann Other"/);
  const m = /match_code: (\d{6})/.exec(acc)[1];
  const list = mc('invite', 'list', '--key', 'node/admin_key.json');
  assert.match(list, new RegExp(`${code} accepted match_code ${m} member [0-9a-f]{64} expires \\S+ for auditor "Ann Other"`));
  const reg = mc('invite', 'register', code, '--key', 'node/admin_key.json');
  assert.match(reg, /enrolled: [0-9a-f]{64} auditor "Ann Other"/);
  const pk = JSON.parse(readFileSync(join(S.net.dir, 'cli-member.json'), 'utf8')).public_key;
  assert.match(mc('account', 'show', pk), /auditor/);
  assert.throws(() => mc('invite', 'accept', code, '--member-key', 'cli-member.json'), /already/);
});

// The organisation's own record numbers: filed when Dr Ada registers an
// invited patient (or later, by any clinician), found by a colleague's page
// with the "find by record number" box, never by typing hex; unknown and
// malformed numbers are refused in words.
for (const [size, viewport] of SIZES) {
  test(`a clinician finds a patient by the organisation's record number (${size})`, { timeout: 120000 }, async () => {
    const mrn = `SM-${size[0].toUpperCase()}-4711`;
    const ada = await S.newPage(viewport);
    await ada.goto('/clinician');
    await loadKey(ada, S.net.keyFile('ada'));
    await ada.fill('#invite-label', `Mary Major ${size}`);
    await ada.fill('#invite-mrn', mrn.toLowerCase());
    await ada.click('#invite-go');
    const code = await ada.locator('#invite-code').innerText();
    // she accepts with her own key (here through the CLI)
    execFileSync(BIN, ['keygen', '--out', `mrn-${size}.json`], { cwd: S.net.dir, stdio: 'ignore' });
    S.net.mc('invite', 'accept', code, '--patient-key', `mrn-${size}.json`);
    await ada.click('#invite-refresh');
    const row = ada.locator('#invitations li.accepted', { hasText: code });
    await row.waitFor();
    assert.equal(await row.locator('input.reg-mrn').inputValue(), mrn, 'the number typed with the invitation');
    await row.locator('button[data-register]').click();
    await ada.locator('#invitations li', { hasText: `Mary Major ${size} is registered` }).waitFor();

    // Dr Bob, on his own device, finds her by the number alone.
    const bob = await S.newPage(viewport);
    await bob.goto('/clinician');
    await loadKey(bob, S.net.keyFile('bob'));
    await bob.fill('#mrn-find', mrn.toLowerCase());
    await bob.click('#mrn-go');
    await bob.locator('#patient-chosen', { hasText: `Chosen by record number ${mrn}` }).waitFor();
    assert.equal(await bob.inputValue('#patient'), S.net.pub(`mrn-${size}`));
    await bob.locator('#mrn-shown', { hasText: mrn }).waitFor();
    // refused in words
    await bob.fill('#mrn-find', 'SM-NOBODY');
    await bob.press('#mrn-find', 'Enter');
    await bob.locator('#patient-chosen', { hasText: "no patient of St Mary's Hospital has record number SM-NOBODY" }).waitFor();
    await bob.fill('#mrn-find', 'not a number!');
    await bob.click('#mrn-go');
    await bob.locator('#patient-chosen', { hasText: 'A record number is 1 to 32 letters' }).waitFor();

    // A number filed later, for a patient chosen from her code's key.
    const later = `SM-${size[0].toUpperCase()}-0001`;
    await bob.fill('#patient', S.net.pub('patient'));
    await bob.dispatchEvent('#patient', 'change');
    await bob.locator('#mrn-box:not(.hidden)').waitFor();
    await bob.locator('#mrn-current', { hasText: /No record number filed|Her record number here/ }).waitFor();
    await bob.fill('#mrn-set', later);
    await bob.click('#mrn-save');
    await bob.locator('#mrn-saved', { hasText: `Filed: record number ${later}` }).waitFor();
    // another patient's number is refused
    await bob.fill('#mrn-set', mrn);
    await bob.click('#mrn-save');
    await bob.locator('#mrn-saved', { hasText: `record number ${mrn} already names another patient` }).waitFor();
    await ada.fill('#mrn-find', later);
    await ada.click('#mrn-go');
    await ada.locator('#patient-chosen', { hasText: `Chosen by record number ${later}` }).waitFor();
    assert.equal(await ada.inputValue('#patient'), S.net.pub('patient'));
    await screenShot(ada, `mrn-find-${size}`);
    assert.deepEqual(bob.errors.filter((e) => !/status of 40[49]/.test(e)), []);
    assert.deepEqual(ada.errors.filter((e) => !/status of 404/.test(e)), []);
  });
}

test('the CLI files and finds record numbers; another organisation finds nothing', { timeout: 60000 }, () => {
  const { mc, pub } = S.net;
  assert.match(mc('mrn', 'set', 'cli-77', '--patient-key', 'patient.json', '--key', 'ada.json'), /mrn: CLI-77/);
  const found = mc('mrn', 'find', 'Cli-77', '--key', 'bob.json');
  assert.match(found, new RegExp(`patient: ${pub('patient')}`));
  assert.match(found, /organisation: St Mary's Hospital/);
  assert.match(mc('mrn', 'find', '--patient', pub('patient'), '--key', 'aud.json'), /mrn: CLI-77/);
  // Corner Pharmacy's pharmacist asks the same node: St Mary's index is not hers
  assert.throws(() => mc('mrn', 'find', 'CLI-77', '--key', 'ph.json'), /HTTP 404: .*no patient of Corner Pharmacy has record number CLI-77/i);
  assert.throws(() => mc('mrn', 'set', 'CLI-78', '--patient-key', 'patient.json', '--key', 'aud.json'),
    /HTTP 403: .*only a clinician or admin of a provider organisation/i);
  assert.throws(() => mc('mrn', 'find', 'CLI-77', '--key', 'patient.json'), /HTTP 403/);
  assert.throws(() => mc('mrn', 'find', 'not valid!', '--key', 'bob.json'), /a record number is 1 to 32 letters/);
});
