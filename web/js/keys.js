// Account keys in the browser. The private half never leaves the page: it
// is held in memory, optionally saved on this device as a passphrase key
// file (Argon2id and XChaCha20-Poly1305, the CLI's format, in
// localStorage), or downloaded as a medchain key file by the user, plain or
// protected by a passphrase. Key files of both forms open here.
//
// Signing is Ed25519: WebCrypto's when the browser has it (Chromium does),
// libsodium's otherwise. Both give the same signature (Ed25519 is
// deterministic), and the same key files as `medchain keygen`.
import { concat, dec, enc, equal, hex, randomBytes, unhex } from './util.js';
import { sodium } from './sodium.js';

const PKCS8_ED25519 = unhex('302e020100300506032b657004220420');
const STORE = 'medchain.keys.v1';

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export class Key {
  constructor(seed, pk, signer) {
    this.seed = seed;
    this.pk = pk;
    this.pkHex = hex(pk);
    this.signer = signer; // (msg) => Promise<Uint8Array(64)>
  }

  // Raw Ed25519 over msg (RFC 9421 bases are signed raw).
  sign(msg) { return this.signer(msg); }

  // medchain's domain-separated signature (src/crypto/sign.h):
  // "medchain/v1/" || purpose || 0x00 || u8 len(chain id) || chain id || msg
  signDomain(purpose, chainId, msg) {
    const c = enc.encode(chainId);
    return this.sign(concat(enc.encode(`medchain/v1/${purpose}`), Uint8Array.of(0, c.length), c, msg));
  }

  keyFile() {
    return JSON.stringify({ medchain_key: 1, public_key: this.pkHex, secret_seed: hex(this.seed) });
  }

  // The X25519 key pair of this account (libsodium's conversion), for
  // opening data keys sealed to it.
  async x25519() {
    const s = await sodium();
    const sk64 = concat(this.seed, this.pk);
    return {
      publicKey: s.crypto_sign_ed25519_pk_to_curve25519(this.pk),
      privateKey: s.crypto_sign_ed25519_sk_to_curve25519(sk64),
    };
  }
}

async function webcryptoKey(seed) {
  if (!(globalThis.crypto && crypto.subtle)) return null;
  try {
    const k = await crypto.subtle.importKey('pkcs8', concat(PKCS8_ED25519, seed), { name: 'Ed25519' }, true, ['sign']);
    const jwk = await crypto.subtle.exportKey('jwk', k);
    const pk = unb64url(jwk.x);
    const signing = await crypto.subtle.importKey('pkcs8', concat(PKCS8_ED25519, seed), { name: 'Ed25519' }, false, ['sign']);
    return { pk, sign: async (m) => new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, signing, m)) };
  } catch {
    return null; // no Ed25519 in this browser's WebCrypto
  }
}

export async function keyFromSeed(seed) {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new Error('a key seed is 32 bytes');
  const wc = await webcryptoKey(seed);
  if (wc) return new Key(seed, wc.pk, wc.sign);
  const s = await sodium();
  const kp = s.crypto_sign_seed_keypair(seed);
  return new Key(seed, kp.publicKey, async (m) => s.crypto_sign_detached(m, kp.privateKey));
}

export function usingWebCrypto() {
  return webcryptoKey(new Uint8Array(32)).then((k) => !!k);
}

export async function generateKey() {
  return keyFromSeed(randomBytes(32));
}

// ---- key files (src/crypto/keyfile.h) -----------------------------------
//
// Plain form: {"medchain_key":1,"public_key":hex32,"secret_seed":hex32}.
// Passphrase form: {"medchain_key":1,"public_key":hex32,"kdf":"argon2id13",
// "opslimit":N,"memlimit":N,"salt":hex16,"nonce":hex24,"sealed_seed":hex48}:
// the key is Argon2id13(passphrase, salt, opslimit, memlimit), 32 bytes; the
// seed is sealed with XChaCha20-Poly1305 under it with the public key as
// associated data. Read with the same checks as the node's reader: only the
// form's own fields, exact hex lengths, the KDF cost within the bounds the
// CLI accepts, and the seed must give the stated public key.

// "created" (YYYY-MM-DD, optional: older files lack it) is the day the file was written.
const PLAIN_FIELDS = ['medchain_key', 'public_key', 'created', 'secret_seed'];
const SEALED_FIELDS = ['medchain_key', 'public_key', 'created', 'kdf', 'opslimit', 'memlimit', 'salt', 'nonce', 'sealed_seed'];
const OPS_MIN = 1;
const OPS_MAX = 16; // 4 x crypto_pwhash_OPSLIMIT_SENSITIVE
const MEM_MIN = 8192;
const MEM_MAX = 1073741824; // crypto_pwhash_MEMLIMIT_SENSITIVE
// What new files are written with: libsodium's INTERACTIVE limits, as the CLI.
const OPS_NEW = 2;
const MEM_NEW = 67108864;

function hexField(j, name, n) {
  const v = j[name];
  if (typeof v !== 'string' || v.length !== 2 * n || /[^0-9a-fA-F]/.test(v)) {
    throw new Error(`this key file is damaged: "${name}" must be ${2 * n} hex digits`);
  }
  return unhex(v);
}

// Parses a key file's text: { pk, encrypted, seed? , kdf? }; throws a
// sentence for anything that is not a well-formed medchain key file.
export function parseKeyFile(text) {
  let j;
  try { j = JSON.parse(text); } catch { throw new Error('this is not a medchain key file (not JSON)'); }
  if (!j || typeof j !== 'object' || Array.isArray(j) || j.medchain_key !== 1) throw new Error('this is not a medchain key file');
  const encrypted = 'sealed_seed' in j;
  if (encrypted === ('secret_seed' in j)) throw new Error('this key file is damaged: it needs exactly one of secret_seed, sealed_seed');
  const allowed = encrypted ? SEALED_FIELDS : PLAIN_FIELDS;
  for (const k of Object.keys(j)) if (!allowed.includes(k)) throw new Error(`this key file is damaged: unexpected field "${k}"`);
  if ('created' in j && (typeof j.created !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(j.created))) {
    throw new Error('this key file is damaged: "created" must be a date YYYY-MM-DD');
  }
  const pk = hexField(j, 'public_key', 32);
  if (!encrypted) return { pk, encrypted, seed: hexField(j, 'secret_seed', 32) };
  if (j.kdf !== 'argon2id13') throw new Error('this key file uses a key derivation this page does not know ("kdf" must be "argon2id13")');
  const int = (name, lo, hi) => {
    if (!Number.isSafeInteger(j[name]) || j[name] < lo || j[name] > hi) throw new Error(`this key file is damaged: "${name}" must be an integer in [${lo}, ${hi}]`);
    return j[name];
  };
  return { pk, encrypted, opslimit: int('opslimit', OPS_MIN, OPS_MAX), memlimit: int('memlimit', MEM_MIN, MEM_MAX),
    salt: hexField(j, 'salt', 16), nonce: hexField(j, 'nonce', 24), sealed: hexField(j, 'sealed_seed', 48) };
}

// True when the key file's text is the passphrase form (the page then asks
// for the passphrase before calling keyFromFile).
export function needsPassphrase(text) {
  try { return parseKeyFile(text).encrypted; } catch { return false; }
}

async function argon2id(passphrase, salt, opslimit, memlimit) {
  const s = await sodium();
  if (!s.crypto_pwhash) throw new Error('this browser build of libsodium has no Argon2id; passphrase key files cannot be opened here');
  try {
    return s.crypto_pwhash(32, enc.encode(passphrase), salt, opslimit, memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
  } catch {
    throw new Error(`opening this key file needs ${Math.round(memlimit / 1048576)} MiB of memory, more than this browser gave`);
  }
}

// Reads a medchain key file (either form). A passphrase-protected one
// needs its passphrase; a wrong one (or an altered file) is refused with a
// sentence saying so.
export async function keyFromFile(text, passphrase) {
  const f = parseKeyFile(text);
  let seed;
  if (!f.encrypted) {
    seed = f.seed;
  } else {
    if (!passphrase) throw new Error('this key file is protected by a passphrase: type it to open the file');
    const s = await sodium();
    const k = await argon2id(passphrase, f.salt, f.opslimit, f.memlimit);
    try {
      seed = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, f.sealed, f.pk, f.nonce, k);
    } catch {
      throw new Error('Wrong passphrase: this key file does not open with it (or the file was altered). Check the passphrase and try again.');
    } finally {
      s.memzero(k);
    }
  }
  const key = await keyFromSeed(seed);
  if (!equal(key.pk, f.pk)) throw new Error('the key file is damaged: its seed does not give its public key');
  return key;
}

// The passphrase form of a key file for this key (the format the CLI writes
// with --passphrase-file), as text.
export async function sealedKeyFile(key, passphrase) {
  if (!passphrase || passphrase.length < 8) throw new Error('choose a passphrase of at least 8 characters');
  const s = await sodium();
  const salt = randomBytes(16);
  const nonce = randomBytes(24);
  const k = await argon2id(passphrase, salt, OPS_NEW, MEM_NEW);
  let sealed;
  try {
    sealed = s.crypto_aead_xchacha20poly1305_ietf_encrypt(key.seed, key.pk, null, nonce, k);
  } finally {
    s.memzero(k);
  }
  return JSON.stringify({ medchain_key: 1, public_key: key.pkHex, kdf: 'argon2id13', opslimit: OPS_NEW, memlimit: MEM_NEW,
    salt: hex(salt), nonce: hex(nonce), sealed_seed: hex(sealed) });
}

// ---- keys saved on this device -------------------------------------------
//
// Saved in localStorage under STORE_V2 as { public key hex: { label, file } }
// where file is the key file's passphrase form (sealedKeyFile): the same
// bytes a user could download or hand to the CLI. Keys saved by earlier
// versions of the page (STORE, PBKDF2-SHA-256 and AES-256-GCM) still
// unlock.
const STORE_V2 = 'medchain.keys.v2';

function readStore(name) {
  try { return JSON.parse(localStorage.getItem(name) || '{}'); } catch { return {}; }
}

export function savedKeys() {
  const v2 = readStore(STORE_V2);
  const v1 = readStore(STORE);
  return [...Object.entries(v2).map(([pk, v]) => ({ pk, label: v.label })),
    ...Object.entries(v1).filter(([pk]) => !(pk in v2)).map(([pk, v]) => ({ pk, label: v.label }))];
}

export async function saveKey(key, passphrase, label) {
  const file = await sealedKeyFile(key, passphrase);
  const all = readStore(STORE_V2);
  all[key.pkHex] = { label: label || '', file };
  localStorage.setItem(STORE_V2, JSON.stringify(all));
  const old = readStore(STORE);
  if (old[key.pkHex]) { delete old[key.pkHex]; localStorage.setItem(STORE, JSON.stringify(old)); }
}

async function wrapKey(passphrase, salt) {
  const base = await crypto.subtle.importKey('raw', enc.encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 600000 },
    base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

export async function unlockKey(pkHex, passphrase) {
  const v2 = readStore(STORE_V2)[pkHex];
  if (v2) {
    const key = await keyFromFile(v2.file, passphrase);
    if (key.pkHex !== pkHex) throw new Error('the saved key is damaged');
    return key;
  }
  const v = readStore(STORE)[pkHex];
  if (!v) throw new Error('no key saved on this device under that name');
  const k = await wrapKey(passphrase, unhex(v.salt));
  let seed;
  try {
    seed = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unhex(v.iv), additionalData: unhex(pkHex) }, k, unhex(v.ct)));
  } catch {
    throw new Error('Wrong passphrase: the saved key does not open with it. Check the passphrase and try again.');
  }
  return keyFromSeed(seed);
}

export function forgetKey(pkHex) {
  for (const name of [STORE_V2, STORE]) {
    const all = readStore(name);
    if (all[pkHex]) {
      delete all[pkHex];
      localStorage.setItem(name, JSON.stringify(all));
    }
  }
}

export { dec };
