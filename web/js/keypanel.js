// The "who am I" panel every signed-in page shares: load a medchain key file
// (or paste it; a passphrase-protected one asks for its passphrase), unlock
// a key saved on this device, or create a new key; then save it on this
// device protected by a passphrase, download it (plain or protected), forget
// it, or sign out. The key stays in this page's memory; nothing of it is
// sent anywhere.
import { account, orgName } from './api.js';
import { forgetKey, generateKey, keyFromFile, needsPassphrase, saveKey, savedKeys, sealedKeyFile, unlockKey } from './keys.js';
import { download, h, note, short, show } from './util.js';

const ROLE_WORDS = { clinician: 'clinician', pharmacist: 'pharmacist', researcher: 'researcher', auditor: 'auditor',
  manufacturer: 'manufacturing', distributor: 'distribution', pharmacy: 'pharmacy', regulator: 'regulator',
  admin: 'administrator', patient: 'patient', node: 'node' };

export function keyPanel(container, { title = 'Your key', allowCreate = false, onKey } = {}) {
  const el = typeof container === 'string' ? document.querySelector(container) : container;
  el.classList.add('keypanel');
  let current = null;
  const msg = h('div', { 'aria-live': 'polite' });
  const ask = h('div#key-ask');

  // p: a promise of a Key, or of { k, fresh } for a key made here.
  async function use(p) {
    const got = await p;
    const key = got && got.k ? got.k : got;
    const fresh = !!(got && got.fresh);
    show(ask);
    show(msg);
    const acct = await account(key.pkHex);
    const org = acct && acct.org ? await orgName(acct.org) : null;
    current = { key, account: acct, org, fresh };
    render();
    if (onKey) await onKey(current);
  }

  // Opens key file text; the passphrase form first asks for its passphrase.
  function openText(text) {
    if (!needsPassphrase(text)) return use(text ? keyFromFile(text) : Promise.reject(new Error('the key file is empty')));
    const pass = h('input#key-file-pass', { type: 'password', autocomplete: 'current-password' });
    const form = h('form#key-file-unlock.note.info', h('p', h('strong', 'This key file is protected by a passphrase.')),
      h('label', { for: 'key-file-pass' }, 'Its passphrase'), pass,
      h('button', { type: 'submit' }, 'Open the key file'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const btn = form.querySelector('button');
      btn.disabled = true;
      show(msg, h('p.muted', 'Checking the passphrase (Argon2id, a second or two)…'));
      try {
        await use(keyFromFile(text, pass.value));
      } catch (e) {
        show(msg, h('p.note.bad#key-error', { role: 'alert' }, e.message));
        pass.select();
      } finally {
        btn.disabled = false;
      }
    });
    show(ask, form);
    pass.focus();
    return Promise.resolve();
  }

  async function tryUse(p) {
    try { await use(p); } catch (e) { show(msg, h('p.note.bad#key-error', { role: 'alert' }, e.message)); }
  }

  function signedOut() {
    const file = h('input#key-file', { type: 'file', accept: '.json,application/json' });
    file.addEventListener('change', async () => {
      const f = file.files[0];
      if (!f) return;
      show(msg);
      show(ask);
      try { await openText(await f.text()); } catch (e) { show(msg, h('p.note.bad#key-error', { role: 'alert' }, e.message)); }
    });
    const paste = h('textarea#key-paste', { rows: 3, spellcheck: 'false', 'aria-label': 'Key file contents' });
    const pasteBtn = h('button.secondary', { type: 'button', onclick: async () => {
      show(msg);
      try { await openText(paste.value.trim()); } catch (e) { show(msg, h('p.note.bad#key-error', { role: 'alert' }, e.message)); }
    } }, 'Use this key');
    const saved = savedKeys();
    const pass = h('input#key-pass', { type: 'password', autocomplete: 'current-password' });
    const pick = h('select#key-saved', saved.map((s) => h('option', { value: s.pk }, `${s.label || 'key'} (${short(s.pk)})`)));
    const unlock = h('button#key-unlock', { type: 'submit' }, 'Unlock');
    const unlockForm = h('form#key-saved-form', h('label', { for: 'key-saved' }, 'Unlock a key saved on this device'), pick,
      h('label', { for: 'key-pass' }, 'Its passphrase'), pass, unlock);
    unlockForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      unlock.disabled = true;
      show(msg, h('p.muted', 'Checking the passphrase…'));
      try { await tryUse(unlockKey(pick.value, pass.value)); } finally { unlock.disabled = false; }
    });
    return [
      h('h2', title),
      saved.length ? unlockForm : null,
      h('label', { for: 'key-file' }, saved.length ? 'or open your key file' : 'Open your key file'), file,
      ask,
      h('details', h('summary', 'or paste the key file'), paste, pasteBtn),
      allowCreate ? h('p', h('button.secondary#key-create', { type: 'button', onclick: () => tryUse(generateKey().then((k) => ({ k, fresh: true }))) },
        'Create a new key'), h('span.muted', ' Made here, in your browser; save it on this device or download it, and keep it safe.')) : null,
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
    const again = h('input#save-pass2', { type: 'password', autocomplete: 'new-password', minlength: 8 });
    const checked = () => {
      if (pass.value.length < 8) throw new Error('choose a passphrase of at least 8 characters');
      if (pass.value !== again.value) throw new Error('the two passphrases differ: type the same one twice');
      return pass.value;
    };
    const busy = async (btn, fn) => {
      btn.disabled = true;
      try { await fn(); } catch (e) { show(msg, h('p.note.bad#key-error', { role: 'alert' }, e.message)); } finally { btn.disabled = false; }
    };
    const save = h('button#save-key', { type: 'button' }, 'Save on this device');
    save.addEventListener('click', () => busy(save, async () => {
      show(msg, h('p.muted', 'Protecting the key with your passphrase (Argon2id)…'));
      await saveKey(key, checked(), a ? a.name || ROLE_WORDS[a.role] : '');
      show(msg, h('p.note.ok#key-saved-done', { role: 'status' }, 'Saved on this device, protected by your passphrase. Next time, choose it and type the passphrase: no file needed.'));
    }));
    const backup = h('button.secondary#download-protected', { type: 'button' }, 'Download, protected by this passphrase');
    backup.addEventListener('click', () => busy(backup, async () => {
      show(msg, h('p.muted', 'Protecting the key with your passphrase (Argon2id)…'));
      download(`medchain-key-${key.pkHex.slice(0, 8)}.json`, await sealedKeyFile(key, checked()));
      show(msg, note('ok', 'Downloaded. The file opens with this passphrase, here or with the medchain command.'));
    }));
    const isSaved = savedKeys().some((s) => s.pk === key.pkHex);
    return [
      h('h2', title),
      h('p', h('span.who', who), h('br'), h('span.muted', 'Key '), h('span.mono', key.pkHex)),
      fresh ? note('warn', 'This key is new. Save it on this device or download it now, and keep it safe: without it nobody can open your records for you.') : null,
      h('details#key-keep', { open: fresh || null }, h('summary', 'Keep this key: on this device, or as a backup file'),
        h('label', { for: 'save-pass' }, 'A passphrase (8 characters or more)'), pass,
        h('label', { for: 'save-pass2' }, 'The same passphrase again'), again,
        h('div', save, backup),
        h('p', h('button.secondary#download-plain', { type: 'button', onclick: () => download(`medchain-key-${key.pkHex.slice(0, 8)}.json`, key.keyFile()) },
          'Download without a passphrase'), h('span.muted', ' Anyone who gets this file can act as you.'))),
      h('button.secondary', { type: 'button', onclick: () => { current = null; render(); if (onKey) onKey(null); } }, 'Sign out'),
      isSaved ? h('button.secondary#forget-key', { type: 'button', onclick: () => { forgetKey(key.pkHex); show(msg, note('info', 'Removed from this device.')); render(); } }, 'Forget on this device') : null,
    ];
  }

  function render() {
    show(el, current ? signedIn() : signedOut(), msg);
  }
  render();
  return { get: () => current };
}
