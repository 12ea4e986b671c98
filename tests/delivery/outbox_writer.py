"""Child process for the SIGKILL test: puts sealed summaries into an outbox until killed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from hub.delivery.outbox import Outbox
from hub.keys import load_or_create_device_key
from hub.summary.seal import seal


def main() -> None:
    directory, recipient, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    key = load_or_create_device_key(directory / "keys")
    outbox = Outbox(directory / "outbox")
    sys.stdout.write("started\n")
    sys.stdout.flush()
    i = seed
    while True:
        i += 1
        name = f"p{i % 4}_2026-01-{i % 9 + 1:02d}"  # names repeat: replacing is exercised too
        padding = os.urandom(64 * 1024 * (1 + i % 6)).hex()
        body = json.dumps({"name": name, "i": i, "padding": padding}).encode()
        sealed = seal(body, [recipient], key)
        outbox.put(name, sealed.ciphertext, sealed.signature)
        if i % 5 == 0:
            outbox.mark_delivered(name)


if __name__ == "__main__":
    main()
