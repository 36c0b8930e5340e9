#!/usr/bin/env python3
# A client in another language: builds the worked example of docs/wire-format.md from the
# document's rules alone (Python's blake3 and cryptography, none of Charter's code) and checks
# that every value the document prints is what it gets. Exits non-zero on any difference.
import pathlib, struct, sys

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
u32 = lambda v: struct.pack('<I', v); u64 = lambda v: struct.pack('<Q', v)
def passport_genesis(cell, index):
    return blake3.blake3(b"charter/passport-id/v1" + u32(cell) + bytes(32) + u64(index)).digest()
cell = 3
sender, recipient = passport_genesis(cell, 0), passport_genesis(cell, 1)
body = bytes([0x11]*32) + u32(cell) + sender + u64(7) + u64(10) + bytes([0]) + recipient + u64(1500)
key = Ed25519PrivateKey.from_private_bytes(bytes([0x42]*32))
pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
signing = b"CHARTER_TX_V1" + body
sig = key.sign(signing)
tx = body + pub + sig
vals = dict(body=body.hex(), sender=sender.hex(), recipient=recipient.hex(), signer_public_key=pub.hex(),
            signing_bytes=signing.hex(), signature=sig.hex(), transaction=tx.hex(), transaction_id=blake3.blake3(tx).digest().hex())
doc = dict(l.split(' = ',1) for l in open(pathlib.Path(__file__).resolve().parent.parent / 'docs' / 'wire-format.md').read().splitlines() if ' = ' in l and ' ' not in l.split(' = ',1)[0])
mismatched = [name for name, value in vals.items() if doc.get(name) != value]
for name in mismatched:
    print(f"wire-format: {name} in the document differs from an independent encoding: {vals[name]}")
print(f"wire-format: {len(vals) - len(mismatched)} of {len(vals)} worked-example values reproduced independently")
sys.exit(1 if mismatched else 0)
