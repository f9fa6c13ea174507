// Copies the browser builds of the pinned npm dependencies into vendor/, so
// the node serves them itself (no network at runtime, no CDN). Run after
// `npm ci` (scripts/deps.sh does both). Versions: package-lock.json.
//
//   vendor/libsodium.mjs            libsodium, the sumo build (ESM, WebAssembly
//                                   inside): the standard build lacks
//                                   crypto_pwhash (Argon2id), which the
//                                   passphrase-protected key files need
//   vendor/libsodium-wrappers.mjs   its JS API (libsodium-wrappers-sumo); the
//                                   bare import "libsodium-sumo" is pointed
//                                   at ./libsodium.mjs
//   vendor/zxing-reader.js          zxing-wasm reader (IIFE, global ZXingWASM)
//   vendor/zxing_reader.wasm        its WebAssembly (located by the page)
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nm = join(here, 'node_modules');
const out = join(here, 'vendor');
mkdirSync(out, { recursive: true });

function need(p) {
  if (!existsSync(p)) {
    console.error(`vendor: ${p} is missing; run npm ci in web/ first`);
    process.exit(1);
  }
  return p;
}

copyFileSync(need(join(nm, 'libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs')), join(out, 'libsodium.mjs'));
const wrappers = readFileSync(need(join(nm, 'libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs')), 'utf8');
const rewired = wrappers.replace(/from\s*"libsodium-sumo"/g, 'from"./libsodium.mjs"');
if (rewired === wrappers) {
  console.error('vendor: libsodium-wrappers-sumo no longer imports "libsodium-sumo"; update vendor.mjs');
  process.exit(1);
}
writeFileSync(join(out, 'libsodium-wrappers.mjs'), rewired);
copyFileSync(need(join(nm, 'zxing-wasm/dist/iife/reader/index.js')), join(out, 'zxing-reader.js'));
const wasm = [join(nm, 'zxing-wasm/dist/iife/reader/zxing_reader.wasm'),
              join(nm, 'zxing-wasm/dist/reader/zxing_reader.wasm')].find(existsSync);
copyFileSync(need(wasm || 'zxing_reader.wasm'), join(out, 'zxing_reader.wasm'));

const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
const v = (n) => lock.packages[`node_modules/${n}`]?.version;
writeFileSync(join(out, 'VERSIONS.txt'),
  `libsodium-sumo ${v('libsodium-sumo')}\nlibsodium-wrappers-sumo ${v('libsodium-wrappers-sumo')}\nzxing-wasm ${v('zxing-wasm')}\n`);
console.log(`vendor: libsodium-sumo ${v('libsodium-sumo')}, libsodium-wrappers-sumo ${v('libsodium-wrappers-sumo')}, zxing-wasm ${v('zxing-wasm')} -> web/vendor/`);
