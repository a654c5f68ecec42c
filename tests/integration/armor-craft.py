#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Armored OpenPGP files that hide packets where gpg reads on and a reader
stopping where the armor seems to end does not (docs/trust.md), for
tests/integration/store-signed.sh and trust.sh.

  armor-craft.py METHOD IN.asc OUT.asc   IN's packets, then compressed data
      packets nested in each other (unpacking to 64 MiB), armored by METHOD:
    qp    the hidden base64 written "=XX" (gpg reads it as quoted-printable)
    dash  the hidden base64 after a line "-----" (gpg skips the dashes)

The packets of IN are written again with lengths of 2 or 4 bytes so that
they fill whole groups of base64 and the hidden ones start a group."""
import base64
import struct
import sys
import zlib


def crc24(data):
    crc = 0xB704CE
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def dearmor(text):
    lines = text.splitlines()
    body = lines[lines.index('') + 1:]
    return lines[0], base64.b64decode(''.join(
        l for l in body if not l.startswith('=') and not l.startswith('-----')))


def packets(data):
    i = 0
    while i < len(data):
        b = data[i]
        i += 1
        if b & 0x40:
            tag, l0 = b & 0x3F, data[i]
            i += 1
            if l0 < 192:
                n = l0
            elif l0 < 224:
                n = ((l0 - 192) << 8) + data[i] + 192
                i += 1
            else:
                n = struct.unpack('>I', data[i:i + 4])[0]
                i += 4
        else:
            tag, k = (b >> 2) & 15, 1 << (b & 3)
            n = int.from_bytes(data[i:i + k], 'big')
            i += k
        yield tag, data[i:i + n]
        i += n


def whole_groups(pk):
    """The packets, old format, of 2-byte lengths but the first few of 4."""
    for longs in range(len(pk) + 1):
        out = b''.join(bytes([0x80 | tag << 2 | (2 if j < longs else 1)]) +
                       struct.pack('>I' if j < longs else '>H', len(body)) + body
                       for j, (tag, body) in enumerate(pk))
        if len(out) % 3 == 0:
            return out
    sys.exit('armor-craft.py: cannot make whole groups of base64')


def bomb():
    """A literal data packet of 64 MiB of zeros, compressed twice."""
    size = 64 << 20
    z = zlib.compressobj(9)
    inner = z.compress(bytes([0xCB, 0xFF]) + struct.pack('>I', size + 6) + b'b\0\0\0\0\0')
    inner += b''.join(z.compress(bytes(1 << 20)) for _ in range(64)) + z.flush()
    return bytes([0xA3, 2]) + zlib.compress(bytes([0xA3, 2]) + inner, 9)


def main():
    method, src, out = sys.argv[1:4]
    begin, data = dearmor(open(src).read())
    head = whole_groups(list(packets(data)))
    full = head + bomb()
    b64 = base64.b64encode(full).decode()
    seen, hidden = b64[:len(head) // 3 * 4], b64[len(head) // 3 * 4:]
    lines = [begin, ''] + [seen[i:i + 64] for i in range(0, len(seen), 64)]
    if method == 'qp':
        qp = ''.join('=%02X' % ord(c) for c in hidden)
        lines += [qp[i:i + 72] for i in range(0, len(qp), 72)]
    else:
        lines.append('-----')
        hidden = hidden.rstrip('=')
        lines += [hidden[i:i + 64] for i in range(0, len(hidden), 64)]
    c = crc24(full)
    lines.append('=' + base64.b64encode(bytes([c >> 16, (c >> 8) & 255, c & 255])).decode())
    lines.append(begin.replace('BEGIN', 'END'))
    with open(out, 'w') as f:
        f.write('\n'.join(lines) + '\n')


main()
