"""Cost of the firmware's crypto in the interpreter: one sealed batch, one handshake (best of 5).

Run on the unix port (``MICROPYPATH=firmware/micropython:.frozen micropython tools/bench.py``)
or on a board after copying the firmware; prints one line per figure.
"""

import os
import time

import chachapoly
import messages
import noise
import x25519


def _ms(fn, n, rounds=5):
    # Best of a few rounds: other load on the machine only ever adds time.
    best = None
    for _ in range(rounds):
        t = time.ticks_us()
        for _ in range(n):
            fn()
        ms = time.ticks_diff(time.ticks_us(), t) / 1000 / n
        best = ms if best is None or ms < best else best
    return best


def _batch(count, data_len):
    ads = []
    for i in range(count):
        ads.append((0xC01122334400 + i, 1, -60 - i, bytes(range(data_len))))
    return messages.raw_advertisements_response(ads)


def main():
    n = 20
    for count, data_len in ((16, 31), (16, 20), (4, 31), (1, 31)):
        body = _batch(count, data_len)
        plain = bytes((0, 93, len(body) >> 8, len(body) & 0xFF)) + body
        cs = noise.CipherState(os.urandom(32))
        ads = [(0xC01122334400, 1, -60, bytes(data_len))] * count
        enc = _ms(lambda: messages.raw_advertisements_response(ads), n)
        seal = _ms(lambda: cs.encrypt(plain), n)
        fast = chachapoly.chacha20
        chachapoly.chacha20 = chachapoly.chacha20_py
        seal_py = _ms(lambda: cs.encrypt(plain), n)
        chachapoly.chacha20 = fast
        print(
            "batch ads=%d data=%dB frame=%dB encode_ms=%.2f seal_ms=%.2f seal_portable_ms=%.2f"
            % (count, data_len, len(plain) + 16, enc, seal, seal_py)
        )
    k = os.urandom(32)
    print("x25519_ms=%.2f" % _ms(lambda: x25519.public_key(k), 5))
    psk = os.urandom(32)

    def handshake():
        # The responder's work for one connection: read msg 1, write msg 2, split.
        r = noise.Responder(psk, b"NoiseAPIInit\x00\x00")
        r._mix_key_and_hash(psk)  # noqa: SLF001 - benchmark the cost without an initiator
        r._re = x25519.public_key(os.urandom(32))  # noqa: SLF001
        r.write_message()
        r.split()

    print("handshake_ms=%.2f" % _ms(handshake, 5))


main()
