// Small helpers shared by every page: bytes and hex, SHA-256, DOM building,
// dates in plain words. No dependencies.

export const enc = new TextEncoder();
export const dec = new TextDecoder();

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function unhex(s) {
  if (typeof s !== 'string' || s.length % 2 || /[^0-9a-fA-F]/.test(s)) throw new Error('not hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

export function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function b64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function unb64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

// SHA-256 through WebCrypto; pages opened over plain HTTP from another
// machine have no crypto.subtle (not a secure context): then libsodium.
export async function sha256(bytes) {
  if (globalThis.crypto && crypto.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const { sodium } = await import('./sodium.js');
  const s = await sodium();
  return s.crypto_hash_sha256(bytes);
}

// h('tag.class#id', {attrs}, ...children): a DOM element. Text children are
// text nodes (never parsed as HTML), so nothing from the network can inject
// markup.
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement((m && m[1]) || 'div');
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function show(target, ...nodes) {
  const el = typeof target === 'string' ? $(target) : target;
  el.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
  return el;
}

// A status line: kind is 'ok', 'bad', 'warn' or 'info'.
export function note(kind, text) {
  return h(`p.note.${kind}`, { role: kind === 'bad' ? 'alert' : 'status' }, text);
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

// "3 March 2026, 14:02" in the reader's time zone.
export function when(ms) {
  if (ms === undefined || ms === null || ms === '') return '';
  const d = typeof ms === 'string' ? new Date(ms) : new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return String(ms);
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}, ${hh}:${mm}`;
}

export function short(hexs, n = 8) {
  return hexs && hexs.length > 2 * n ? `${hexs.slice(0, n)}…${hexs.slice(-4)}` : hexs || '';
}

// Wraps an async click handler: disables the button while it runs and
// shows any error in the given output element.
export function action(button, out, fn) {
  button.addEventListener('click', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      await fn();
    } catch (e) {
      if (out) show(out, note('bad', e.message || String(e)));
      else console.error(e);
    } finally {
      button.disabled = false;
    }
  });
}

export function download(name, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
