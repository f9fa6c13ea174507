// What a scanned or typed pack code says: a GS1 Digital Link URL
// ("https://x/01/09506000134352/10/LOT/21/PK2?17=280630"), a GS1 element
// string in brackets ("(01)09506000134352(17)280630(10)LOT(21)PK2") or raw
// from a DataMatrix (AIs run together, variable fields ended by the GS
// character, optionally after a "]d2" symbology identifier). The node's
// resolver judges the pack; this only finds the Digital Link path to ask.

const FIXED = { '00': 18, '01': 14, '02': 14, 11: 6, 12: 6, 13: 6, 15: 6, 16: 6, 17: 6, 20: 2 };
const VARIABLE = new Set(['10', '21', '22', '240', '241', '30', '37', '400', '410', '414', '7003']);
const GS = '\x1d';

export function gtin14(g) {
  const d = String(g).trim();
  if (!/^\d{8}$|^\d{12,14}$/.test(d)) throw new Error(`a GTIN has 8, 12, 13 or 14 digits, not "${d}"`);
  return d.padStart(14, '0');
}

function parseBracketed(s) {
  const out = {};
  const re = /\((\d{2,4})\)([^(]*)/g;
  let m;
  let seen = 0;
  while ((m = re.exec(s))) { out[m[1]] = m[2].replace(/\x1d/g, '').trim(); seen++; }
  if (!seen) throw new Error('no (AI) found in the code');
  return out;
}

function parseRaw(s) {
  const out = {};
  let i = 0;
  while (i < s.length) {
    if (s[i] === GS) { i++; continue; }
    let ai = s.substr(i, 2);
    if (!/^\d\d$/.test(ai)) throw new Error(`unexpected "${s.substr(i, 6)}" where an AI should be`);
    if (FIXED[ai]) {
      out[ai] = s.substr(i + 2, FIXED[ai]);
      if (out[ai].length !== FIXED[ai]) throw new Error(`AI ${ai} is cut short`);
      i += 2 + FIXED[ai];
      continue;
    }
    if (!VARIABLE.has(ai)) {
      const ai3 = s.substr(i, 3); const ai4 = s.substr(i, 4);
      if (VARIABLE.has(ai3)) ai = ai3;
      else if (VARIABLE.has(ai4)) ai = ai4;
      else throw new Error(`AI ${ai} is not one a medicine pack carries`);
    }
    const start = i + ai.length;
    let end = s.indexOf(GS, start);
    if (end < 0) end = s.length;
    out[ai] = s.slice(start, end);
    i = end;
  }
  return out;
}

// Returns the resolver path ("/01/.../21/...?17=YYMMDD") for a code.
export function resolverPath(code) {
  const s = String(code || '').trim();
  if (!s) throw new Error('type, paste or scan a code first');
  if (/^https?:\/\//i.test(s) || s.startsWith('/01/')) {
    const u = new URL(s, 'http://x');
    const at = u.pathname.indexOf('/01/');
    if (at < 0) throw new Error('this link is not a GS1 Digital Link (no /01/ in it)');
    return u.pathname.slice(at) + u.search;
  }
  let body = s.replace(/^\](d2|Q3|C1|e0|J1)/, '');
  const ais = body.includes('(') ? parseBracketed(body) : parseRaw(body);
  if (!ais['01'] || !ais['21']) throw new Error('the code has no GTIN (01) and serial (21): it does not identify a pack');
  let p = `/01/${gtin14(ais['01'])}`;
  if (ais['10']) p += `/10/${encodeURIComponent(ais['10'])}`;
  p += `/21/${encodeURIComponent(ais['21'])}`;
  if (ais['17']) p += `?17=${ais['17']}`;
  return p;
}
