// Reading QR and DataMatrix codes in the page (zxing-wasm, vendored):
// from a photo (a File or Blob) or a video frame (ImageData).
let zxing;
export function loadZxing() {
  if (!zxing) {
    zxing = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/vendor/zxing-reader.js';
      s.onload = () => {
        const Z = globalThis.ZXingWASM;
        Z.prepareZXingModule({ overrides: { locateFile: (p) => `/vendor/${p}` }, fireImmediately: true });
        resolve(Z);
      };
      s.onerror = () => { zxing = null; reject(new Error('the barcode reader did not load')); };
      document.head.append(s);
    });
  }
  return zxing;
}

const READ = { formats: ['QRCode', 'DataMatrix'], tryHarder: true, maxNumberOfSymbols: 1 };

// The first valid code read, or undefined.
export async function decode(input) {
  const Z = await loadZxing();
  const r = await Z.readBarcodes(input, READ);
  return r.find((x) => x.isValid && x.text);
}
