// RFC 9421 HTTP Message Signatures (ed25519) and RFC 9530 Content-Digest,
// exactly as the node verifies them (src/api/httpsig.c): one signature
// "sig1" covering "@method", "@target-uri", "content-digest" (also for a
// GET: the digest of the empty body) and any header that changes the
// request's meaning (x-purpose-of-use, x-break-glass-reason), with
// created, keyid (the account key in hex), alg="ed25519" and a fresh nonce.
import { b64, enc, hex, randomBytes, sha256 } from './util.js';
import { parse } from './api.js';

export async function contentDigest(body) {
  return `sha-256=:${b64(await sha256(body))}:`;
}

function sfString(s) {
  if (/[^\x20-\x7e]/.test(s)) throw new Error('only printable ASCII may be signed in a header');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// Builds the signature base and the headers for a request.
// Returns { headers, base }.
export async function signRequest(key, method, targetUri, body, extra = {}, created, nonce) {
  const digest = await contentDigest(body);
  const names = ['@method', '@target-uri', 'content-digest'];
  const values = { '@method': method, '@target-uri': targetUri, 'content-digest': digest };
  const headers = { 'Content-Digest': digest };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined || value === null || value === '') continue;
    const v = String(value).trim();
    if (/[^\x20-\x7e]/.test(v)) throw new Error(`${name}: only printable ASCII characters can be sent`);
    const lname = name.toLowerCase();
    names.push(lname);
    values[lname] = v;
    headers[name] = v;
  }
  const ts = created ?? Math.floor(Date.now() / 1000);
  const n = nonce ?? hex(randomBytes(16));
  const params = `(${names.map((c) => `"${c}"`).join(' ')});created=${ts};keyid=${sfString(key.pkHex)};alg="ed25519";nonce=${sfString(n)}`;
  const lines = names.map((c) => `"${c}": ${values[c]}`);
  lines.push(`"@signature-params": ${params}`);
  const base = lines.join('\n');
  const sig = await key.sign(enc.encode(base));
  headers['Signature-Input'] = `sig1=${params}`;
  headers.Signature = `sig1=:${b64(sig)}:`;
  return { headers, base };
}

// A signed fetch against this node. path is "/fhir/..." with its query.
// opts: { method, body (string or bytes), contentType, purpose, breakGlass, raw }
// Returns the parsed JSON (throws ApiError), or the Response when raw.
export async function signedFetch(key, path, opts = {}) {
  const method = opts.method || 'GET';
  const url = new URL(path, location.origin);
  const body = opts.body === undefined ? new Uint8Array(0)
    : typeof opts.body === 'string' ? enc.encode(opts.body) : opts.body;
  const extra = {};
  if (opts.purpose) extra['X-Purpose-Of-Use'] = opts.purpose;
  if (opts.breakGlass) extra['X-Break-Glass-Reason'] = opts.breakGlass;
  const { headers } = await signRequest(key, method, url.href, body, extra);
  headers.Accept = opts.accept || 'application/json, application/fhir+json';
  if (body.length) headers['Content-Type'] = opts.contentType || 'application/fhir+json';
  const res = await fetch(url.href, { method, headers, body: body.length ? body : undefined });
  if (opts.raw) return res;
  const out = await parse(res);
  return out;
}
