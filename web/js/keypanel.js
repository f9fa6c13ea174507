// The "who am I" panel every signed-in page shares: load a medchain key file
// (or paste it), unlock a key saved in this browser, or create a new key;
// then save it (encrypted under a passphrase), download it, or sign out.
// The key stays in this page's memory; nothing of it is sent anywhere.
import { account, orgName } from './api.js';
import { forgetKey, generateKey, keyFromFile, saveKey, savedKeys, unlockKey } from './keys.js';
import { download, h, note, short, show } from './util.js';

const ROLE_WORDS = { clinician: 'clinician', pharmacist: 'pharmacist', researcher: 'researcher', auditor: 'auditor',
  manufacturer: 'manufacturing', distributor: 'distribution', pharmacy: 'pharmacy', regulator: 'regulator',
  admin: 'administrator', patient: 'patient', node: 'node' };

export function keyPanel(container, { title = 'Your key', allowCreate = false, onKey } = {}) {
  const el = typeof container === 'string' ? document.querySelector(container) : container;
  el.classList.add('keypanel');
  let current = null;
  const msg = h('div', { 'aria-live': 'polite' });

  async function use(key, fresh = false) {
    const acct = await account(key.pkHex);
    const org = acct && acct.org ? await orgName(acct.org) : null;
    current = { key, account: acct, org, fresh };
    render();
    if (onKey) await onKey(current);
  }

  function signedOut() {
    const file = h('input#key-file', { type: 'file', accept: '.json,application/json' });
    file.addEventListener('change', async () => {
      const f = file.files[0];
      if (!f) return;
      try {
        await use(await keyFromFile(await f.text()));
      } catch (e) { show(msg, note('bad', e.message)); }
    });
    const paste = h('textarea#key-paste', { rows: 3, spellcheck: 'false', 'aria-label': 'Key file contents' });
    const pasteBtn = h('button.secondary', { type: 'button', onclick: async () => {
      try { await use(await keyFromFile(paste.value)); } catch (e) { show(msg, note('bad', e.message)); }
    } }, 'Use this key');
    const saved = savedKeys();
    const pass = h('input#key-pass', { type: 'password', autocomplete: 'current-password' });
    const pick = h('select#key-saved', saved.map((s) => h('option', { value: s.pk }, `${s.label || 'key'} (${short(s.pk)})`)));
    const unlock = h('button', { type: 'button', onclick: async () => {
      try { await use(await unlockKey(pick.value, pass.value)); } catch (e) { show(msg, note('bad', e.message)); }
    } }, 'Unlock');
    return [
      h('h2', title),
      h('label', { for: 'key-file' }, 'Open your key file'), file,
      h('details', h('summary', 'or paste the key file'), paste, pasteBtn),
      saved.length ? h('div', h('label', { for: 'key-saved' }, 'or unlock a key saved in this browser'), pick,
        h('label', { for: 'key-pass' }, 'Passphrase'), pass, unlock) : null,
      allowCreate ? h('p', h('button.secondary#key-create', { type: 'button', onclick: async () => {
        try { await use(await generateKey(), true); } catch (e) { show(msg, note('bad', e.message)); }
      } }, 'Create a new key'), h('span.muted', ' Made here, in your browser; download it and keep it safe.')) : null,
      h('p.muted', 'Your private key never leaves this page: requests are signed here.'),
    ];
  }

  function signedIn() {
    const { key, account: a, org, fresh } = current;
    const who = a && a.role === 'patient' ? 'Your patient account'
      : a
      ? `${a.name || 'Unnamed'} — ${ROLE_WORDS[a.role] || a.role}${org ? ` at ${org}` : ''}${a.status !== 'active' ? ` (${a.status})` : ''}`
      : 'A key the ledger does not know yet';
    const pass = h('input#save-pass', { type: 'password', autocomplete: 'new-password', minlength: 8 });
    const save = h('button.secondary', { type: 'button', onclick: async () => {
      try {
        await saveKey(key, pass.value, a ? a.name : '');
        show(msg, note('ok', 'Saved in this browser, encrypted under your passphrase.'));
      } catch (e) { show(msg, note('bad', e.message)); }
    } }, 'Save');
    return [
      h('h2', title),
      h('p', h('span.who', who), h('br'), h('span.muted', 'Key '), h('span.mono', key.pkHex)),
      fresh ? note('warn', 'This key is new. Download it now and keep it safe: without it nobody can open your records for you.') : null,
      h('button.secondary', { type: 'button', onclick: () => download(`medchain-key-${key.pkHex.slice(0, 8)}.json`, key.keyFile()) }, 'Download key file'),
      h('details', h('summary', 'Remember on this device'), h('label', { for: 'save-pass' }, 'Passphrase (8 characters or more)'), pass, save),
      h('button.secondary', { type: 'button', onclick: () => { current = null; render(); if (onKey) onKey(null); } }, 'Sign out'),
      h('button.secondary', { type: 'button', onclick: () => { forgetKey(key.pkHex); show(msg, note('info', 'Removed from this browser.')); } }, 'Forget on this device'),
    ];
  }

  function render() {
    show(el, current ? signedIn() : signedOut(), msg);
  }
  render();
  return { get: () => current };
}
