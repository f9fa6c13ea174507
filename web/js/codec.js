// medchain's canonical binary encoding (src/base/codec.h): big-endian
// fixed-width integers, u8/u16/u32 length-prefixed byte strings. One
// encoding per value, so what the page builds is byte for byte what the C
// encoder builds.
import { enc } from './util.js';

export class Writer {
  constructor() { this.parts = []; this.n = 0; }
  push(b) { this.parts.push(b); this.n += b.length; return this; }
  u8(v) { return this.push(Uint8Array.of(v & 0xff)); }
  u16(v) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new Error(`u16 out of range: ${v}`);
    return this.push(Uint8Array.of(v >> 8, v & 0xff));
  }
  u32(v) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`u32 out of range: ${v}`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    return this.push(b);
  }
  u64(v) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v));
    return this.push(b);
  }
  fixed(bytes, n) {
    if (bytes.length !== n) throw new Error(`expected ${n} bytes, got ${bytes.length}`);
    return this.push(bytes);
  }
  bytes8(b) { if (b.length > 0xff) throw new Error('too long for a u8 length'); return this.u8(b.length).push(b); }
  bytes16(b) { if (b.length > 0xffff) throw new Error('too long for a u16 length'); return this.u16(b.length).push(b); }
  bytes32(b) { return this.u32(b.length).push(b); }
  str8(s) { return this.bytes8(enc.encode(s)); }
  str16(s) { return this.bytes16(enc.encode(s)); }
  bytes() {
    const out = new Uint8Array(this.n);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}

export class Reader {
  constructor(bytes) { this.b = bytes; this.o = 0; this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength); }
  need(n) { if (this.o + n > this.b.length) throw new Error('truncated'); }
  u8() { this.need(1); return this.b[this.o++]; }
  u16() { this.need(2); const v = this.dv.getUint16(this.o); this.o += 2; return v; }
  u32() { this.need(4); const v = this.dv.getUint32(this.o); this.o += 4; return v; }
  u64() { this.need(8); const v = this.dv.getBigUint64(this.o); this.o += 8; return v; }
  fixed(n) { this.need(n); const v = this.b.subarray(this.o, this.o + n); this.o += n; return v; }
  bytes8() { return this.fixed(this.u8()); }
  str8() { return new TextDecoder().decode(this.bytes8()); }
  done() { if (this.o !== this.b.length) throw new Error('trailing bytes'); }
}
