// libsodium in the page (vendored libsodium-wrappers): sealed boxes
// (X25519 + XSalsa20-Poly1305, as crypto_box_seal in the node), BLAKE2b,
// XChaCha20-Poly1305, and Ed25519 where WebCrypto lacks it. Loaded on
// first use only.
let ready;
export function sodium() {
  if (!ready) {
    ready = import('/vendor/libsodium-wrappers.mjs').then(async (m) => {
      const s = m.default || m;
      await s.ready;
      return s;
    });
  }
  return ready;
}
