// Account keys in the browser. The private half never leaves the page: it
// is held in memory, optionally saved in this browser's localStorage
// encrypted under a passphrase (PBKDF2-SHA-256, 600 000 rounds, AES-256-GCM),
// or downloaded as a medchain key file by the user.
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

// Reads a medchain key file (JSON). The passphrase form (Argon2id) needs
// libsodium's pwhash; it is opened when the vendored build has it.
export async function keyFromFile(text, passphrase) {
  let j;
  try { j = JSON.parse(text); } catch { throw new Error('this is not a medchain key file (not JSON)'); }
  if (!j || j.medchain_key !== 1 || typeof j.public_key !== 'string') throw new Error('this is not a medchain key file');
  let seed;
  if (j.secret_seed) {
    seed = unhex(j.secret_seed);
  } else if (j.sealed_seed) {
    const s = await sodium();
    if (!s.crypto_pwhash) throw new Error('this key file is protected by a passphrase; open it with the medchain CLI and save it without one');
    if (!passphrase) throw new Error('this key file needs its passphrase');
    const k = s.crypto_pwhash(32, enc.encode(passphrase), unhex(j.salt), j.opslimit, j.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
    try {
      seed = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, unhex(j.sealed_seed), unhex(j.public_key), unhex(j.nonce), k);
    } catch {
      throw new Error('wrong passphrase');
    }
  } else {
    throw new Error('this key file holds no secret key');
  }
  const key = await keyFromSeed(seed);
  if (!equal(key.pk, unhex(j.public_key))) throw new Error('the key file is damaged: its seed does not give its public key');
  return key;
}

// --- saved keys (encrypted under a passphrase) ---

async function wrapKey(passphrase, salt) {
  const base = await crypto.subtle.importKey('raw', enc.encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 600000 },
    base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

function saved() {
  try { return JSON.parse(localStorage.getItem(STORE) || '{}'); } catch { return {}; }
}

export function savedKeys() {
  return Object.entries(saved()).map(([pk, v]) => ({ pk, label: v.label }));
}

export async function saveKey(key, passphrase, label) {
  if (!passphrase || passphrase.length < 8) throw new Error('choose a passphrase of at least 8 characters');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const k = await wrapKey(passphrase, salt);
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: key.pk }, k, key.seed));
  const all = saved();
  all[key.pkHex] = { label: label || '', salt: hex(salt), iv: hex(iv), ct: hex(ct) };
  localStorage.setItem(STORE, JSON.stringify(all));
}

export async function unlockKey(pkHex, passphrase) {
  const v = saved()[pkHex];
  if (!v) throw new Error('no saved key');
  const k = await wrapKey(passphrase, unhex(v.salt));
  let seed;
  try {
    seed = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unhex(v.iv), additionalData: unhex(pkHex) }, k, unhex(v.ct)));
  } catch {
    throw new Error('wrong passphrase');
  }
  return keyFromSeed(seed);
}

export function forgetKey(pkHex) {
  const all = saved();
  delete all[pkHex];
  localStorage.setItem(STORE, JSON.stringify(all));
}

export { dec };
