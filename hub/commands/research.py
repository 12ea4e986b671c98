"""``homehub research``: a researcher's tools for sealed summaries (keygen, verify, decrypt,
export, pull), and ``hub-key`` to print a hub's public key for them."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from hub.errors import ConfigError

_LOGGER = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path("/var/lib/homehub")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.summary\.age")
"""A bucket key's last part must look like ours before it names a local file."""


def register(sub: Any) -> None:
    """Add the ``research`` command group."""
    group = sub.add_parser("research", help="keys, verification, decryption and tables")
    commands = group.add_subparsers(dest="research_command", required=True, metavar="SUBCOMMAND")

    keygen = commands.add_parser("keygen", help="make an age identity; prints its recipient")
    keygen.add_argument("-o", "--output", type=Path, required=True, metavar="IDENTITY_FILE")
    keygen.set_defaults(func=_keygen)

    hub_key = commands.add_parser("hub-key", help="print this hub's hub-public-key file")
    hub_key.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    hub_key.set_defaults(func=_hub_key)

    verify = commands.add_parser("verify", help="check who sealed each file; one line per file")
    verify.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR")
    _key_option(verify, required=True)
    verify.set_defaults(func=_verify)

    decrypt = commands.add_parser("decrypt", help="verify, then decrypt one summary to JSON")
    decrypt.add_argument("file", type=Path, metavar="FILE.summary.age")
    _identity_options(decrypt)
    decrypt.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    decrypt.set_defaults(func=_decrypt)

    export = commands.add_parser("export", help="decrypt many summaries into one table")
    export.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR")
    _identity_options(export)
    export.add_argument("--csv", type=Path, help="write a CSV table here")
    export.add_argument("--parquet", type=Path, help="write a Parquet table here (pyarrow)")
    export.set_defaults(func=_export)

    pull = commands.add_parser(
        "pull", help="copy verified sealed summaries from a directory or an S3 bucket"
    )
    pull.add_argument("source", nargs="?", type=Path, help="an outbox, USB export or directory")
    pull.add_argument("--s3", metavar="ENDPOINT", help="S3-compatible endpoint URL instead")
    pull.add_argument("--bucket", help="bucket of the cohort (with --s3)")
    pull.add_argument("--prefix", default="", help="key prefix in the bucket (with --s3)")
    pull.add_argument(
        "--region",
        default="us-east-1",
        help="SigV4 region; credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    )
    pull.add_argument("-d", "--dest", type=Path, required=True)
    _key_option(pull, required=True)
    pull.set_defaults(func=_pull)


def _key_option(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--hub-key",
        type=Path,
        required=required,
        metavar="FILE_OR_DIR",
        help="a hub-public-key file, or a directory of them for a cohort",
    )


def _identity_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--identity", type=Path, required=True, metavar="IDENTITY_FILE")
    _key_option(parser, required=False)
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the signature check (warns; not advised)"
    )


def _keygen(args: argparse.Namespace) -> int:
    from hub.research.identity import create_identity_file  # noqa: PLC0415 - crypto is slow

    recipient = create_identity_file(args.output)
    sys.stderr.write(f"identity written to {args.output}; give the study this recipient:\n")
    sys.stdout.write(recipient + "\n")
    return 0


def _hub_key(args: argparse.Namespace) -> int:
    from hub.keys import load_device_key  # noqa: PLC0415

    try:
        key = load_device_key(args.data_dir / "keys")
    except FileNotFoundError as err:
        raise ConfigError(f"{args.data_dir / 'keys'}: this hub has no device key yet") from err
    sys.stdout.write(key.public_text())
    return 0


def _verify(args: argparse.Namespace) -> int:
    from hub.errors import IntegrityError  # noqa: PLC0415
    from hub.research.collect import find_sealed, verify_file  # noqa: PLC0415
    from hub.research.keyring import load_keyring  # noqa: PLC0415

    keys = load_keyring(args.hub_key)
    files = find_sealed(args.paths)
    if not files:
        raise ConfigError(f"no *.summary.age files in {', '.join(map(str, args.paths))}")
    failed = 0
    for path in files:
        try:
            hub_id = verify_file(path, keys)
        except IntegrityError as err:
            failed += 1
            sys.stdout.write(f"FAIL {err}\n")
        else:
            sys.stdout.write(f"OK   {path} hub {hub_id}\n")
    return 1 if failed else 0


def _keys_for(args: argparse.Namespace) -> Any:
    from hub.research.keyring import load_keyring  # noqa: PLC0415

    if args.no_verify:
        _LOGGER.warning("--no-verify: signatures are NOT checked; anyone could have made these")
        return None
    if args.hub_key is None:
        raise ConfigError("give --hub-key FILE_OR_DIR to check signatures (or --no-verify)")
    return load_keyring(args.hub_key)


def _decrypt(args: argparse.Namespace) -> int:
    from hub.research.collect import open_file  # noqa: PLC0415
    from hub.research.open import load_identities  # noqa: PLC0415

    keys = _keys_for(args)
    _, summary = open_file(args.file, load_identities(args.identity), keys)
    text = json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def _export(args: argparse.Namespace) -> int:
    from hub.research.collect import open_all  # noqa: PLC0415
    from hub.research.export import table, write_csv, write_parquet  # noqa: PLC0415
    from hub.research.open import load_identities  # noqa: PLC0415

    if args.csv is None and args.parquet is None:
        raise ConfigError("give --csv FILE and/or --parquet FILE")
    keys = _keys_for(args)
    identities = load_identities(args.identity)
    summaries, failed = [], 0
    for opened in open_all(args.paths, identities, keys):
        if opened.summary is None:
            failed += 1
            sys.stderr.write(f"homehub: error: {opened.error}\n")
        else:
            summaries.append(opened.summary)
    columns, rows = table(summaries)
    if args.csv is not None:
        write_csv(args.csv, columns, rows)
    if args.parquet is not None:
        write_parquet(args.parquet, columns, rows)
    sys.stderr.write(f"{len(rows)} rows, {len(columns)} columns; {failed} files failed\n")
    return 1 if failed or not rows else 0


def _pull(args: argparse.Namespace) -> int:
    from hub.research.keyring import load_keyring  # noqa: PLC0415

    keys = load_keyring(args.hub_key)
    if (args.source is None) == (args.s3 is None):
        raise ConfigError("give either a source directory or --s3 ENDPOINT --bucket NAME")
    args.dest.mkdir(parents=True, exist_ok=True)
    if args.s3 is not None:
        copied, failed = asyncio.run(_pull_s3(args, keys))
    else:
        copied, failed = _pull_dir(args.source, args.dest, keys)
    sys.stderr.write(f"{copied} verified summaries in {args.dest}; {failed} failed\n")
    return 1 if failed else 0


def _pull_dir(source: Path, dest: Path, keys: Any) -> tuple[int, int]:
    from hub.errors import IntegrityError  # noqa: PLC0415
    from hub.research.collect import find_sealed, verify_file  # noqa: PLC0415

    if not source.is_dir():
        raise ConfigError(f"{source}: not a directory")
    failed = copied = 0
    for path in find_sealed([source]):
        try:
            verify_file(path, keys)
        except IntegrityError as err:
            failed += 1
            sys.stderr.write(f"homehub: error: {err}\n")
            continue
        sig = path.with_name(path.name + ".sig")
        _write_pair(dest, path.name, path.read_bytes(), sig.read_bytes())
        copied += 1
    return copied, failed


async def _pull_s3(args: argparse.Namespace, keys: Any) -> tuple[int, int]:
    import aiohttp  # noqa: PLC0415

    from hub.delivery.s3 import S3Client, S3Target, pull_keys  # noqa: PLC0415
    from hub.errors import IntegrityError  # noqa: PLC0415
    from hub.summary.seal import verify  # noqa: PLC0415

    target = S3Target(
        args.s3,
        args.bucket or "",
        os.environ.get("AWS_ACCESS_KEY_ID", ""),
        os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
        region=args.region,
        prefix=args.prefix,
    )
    failed = copied = 0
    async with aiohttp.ClientSession() as session:
        client = S3Client(target, session)
        for key in await pull_keys(client, args.prefix):
            ciphertext, signature = await client.get(key), await client.get(key + ".sig")
            name = key.rsplit("/", 1)[-1]
            if not _SAFE_NAME.fullmatch(name):
                failed += 1
                sys.stderr.write(f"homehub: error: s3 {key[:80]!r}: not a summary file name\n")
                continue
            try:
                verify(ciphertext, signature, keys)
            except IntegrityError as err:
                failed += 1
                sys.stderr.write(f"homehub: error: s3 {key}: {err}\n")
                continue
            await asyncio.to_thread(_write_pair, args.dest, name, ciphertext, signature)
            copied += 1
    return copied, failed


def _write_pair(dest: Path, name: str, ciphertext: bytes, signature: bytes) -> None:
    """The ``.age`` then the ``.sig`` (last), each atomically."""
    _copy_atomic(ciphertext, dest / name)
    _copy_atomic(signature, dest / (name + ".sig"))


def _copy_atomic(data: bytes, dest: Path) -> None:
    """Write unless identical already; a reader of ``dest`` never sees half a file."""
    if dest.exists() and dest.read_bytes() == data:
        return
    tmp = dest.with_name(f".tmp-{dest.name}")
    tmp.write_bytes(data)
    tmp.replace(dest)
