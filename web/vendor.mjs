// Copies the browser builds of the pinned npm dependencies into vendor/, so
// the node serves them itself (no network at runtime, no CDN). Run after
// `npm ci` (scripts/deps.sh does both). Versions: package-lock.json.
//
//   vendor/libsodium.mjs            libsodium (ESM, WebAssembly inside)
//   vendor/libsodium-wrappers.mjs   its JS API; the bare import "libsodium"
//                                   is pointed at ./libsodium.mjs
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

copyFileSync(need(join(nm, 'libsodium/dist/modules-esm/libsodium.mjs')), join(out, 'libsodium.mjs'));
const wrappers = readFileSync(need(join(nm, 'libsodium-wrappers/dist/modules-esm/libsodium-wrappers.mjs')), 'utf8');
const rewired = wrappers.replace(/from\s*"libsodium"/g, 'from"./libsodium.mjs"');
if (rewired === wrappers) {
  console.error('vendor: libsodium-wrappers no longer imports "libsodium"; update vendor.mjs');
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
  `libsodium ${v('libsodium')}\nlibsodium-wrappers ${v('libsodium-wrappers')}\nzxing-wasm ${v('zxing-wasm')}\n`);
console.log(`vendor: libsodium ${v('libsodium')}, libsodium-wrappers ${v('libsodium-wrappers')}, zxing-wasm ${v('zxing-wasm')} -> web/vendor/`);
