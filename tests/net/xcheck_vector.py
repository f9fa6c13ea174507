#!/usr/bin/env python3
"""Independent cross-check of the handshake test vector (docs/NET.md):
X25519 (RFC 7748 ladder), the transcript and HKDF-SHA256 (RFC 5869) written
from the specifications in Python, sharing no code with src/net."""
import hashlib, hmac
p = 2**255 - 19
def x25519(k, u):
    k = bytearray(k); k[0] &= 248; k[31] &= 127; k[31] |= 64
    k = int.from_bytes(k, 'little'); u = int.from_bytes(u, 'little') % p
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    a24 = 121665
    for t in reversed(range(255)):
        kt = (k >> t) & 1; swap ^= kt
        if swap: x2, x3 = x3, x2; z2, z3 = z3, z2
        swap = kt
        A = (x2 + z2) % p; AA = A*A % p; B = (x2 - z2) % p; BB = B*B % p; E = (AA - BB) % p
        C = (x3 + z3) % p; D = (x3 - z3) % p; DA = D*A % p; CB = C*B % p
        x3 = (DA + CB)**2 % p; z3 = x1 * (DA - CB)**2 % p; x2 = AA*BB % p; z2 = E*(AA + a24*E) % p
    if swap: x2, x3 = x3, x2; z2, z3 = z3, z2
    return (x2 * pow(z2, p-2, p) % p).to_bytes(32, 'little')
ea, eb = bytes([0x11])*32, bytes([0x22])*32
base = (9).to_bytes(32, 'little')
pa, pb = x25519(ea, base), x25519(eb, base)
ch = hashlib.sha256(b"medchain-vector").digest()
hi = b"MCN1" + bytes([1, 0]) + pa + ch
hr = b"MCN1" + bytes([1, 1]) + pb + ch
print("hello_i", hi.hex()); print("hello_r", hr.hex())
t = hashlib.sha256(b"medchain/v1/hs-transcript" + hi + hr).digest(); print("transcript", t.hex())
shared = x25519(ea, pb)
prk = hmac.new(t, shared, hashlib.sha256).digest()
t1 = hmac.new(prk, b"medchain/v1/hs-keys" + b"\x01", hashlib.sha256).digest()
t2 = hmac.new(prk, t1 + b"medchain/v1/hs-keys" + b"\x02", hashlib.sha256).digest()
print("k_i2r", t1.hex()); print("k_r2i", t2.hex())
