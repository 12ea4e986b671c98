"""``homehub research`` end to end: real keys, real age files, real outboxes of two homes."""

from __future__ import annotations

import csv
import json
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hub.cli import main
from hub.delivery.outbox import Outbox
from hub.keys import DeviceKey, load_or_create_device_key
from hub.summary.build import summary_bytes
from hub.summary.seal import seal

from ..summary.factories import make_summary

DAYS = ("2026-11-21", "2026-11-22")


@dataclass
class Cohort:
    root: Path
    identity_file: Path
    recipient: str
    keys_dir: Path
    hubs: dict[str, DeviceKey]

    def sealed(self, participant: str, day: str) -> Path:
        return self.root / participant / "outbox" / f"{participant}_{day}.summary.age"


@pytest.fixture
def cohort(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cohort:
    identity_file = tmp_path / "me.key"
    assert main(["research", "keygen", "-o", str(identity_file)]) == 0
    recipient = capsys.readouterr().out.strip()
    keys_dir = tmp_path / "hub-keys"
    keys_dir.mkdir()
    hubs = {}
    for participant in ("p-001", "p-002"):
        key = load_or_create_device_key(tmp_path / participant / "keys")
        hubs[participant] = key
        (keys_dir / f"{participant}.hub-public-key").write_text(key.public_text())
        outbox = Outbox(tmp_path / participant / "outbox")
        for day in DAYS:
            summary = make_summary(participant_id=participant, date=day, hub_id=key.hub_id)
            sealed = seal(summary_bytes(summary), [recipient], key)
            outbox.put(f"{participant}_{day}", sealed.ciphertext, sealed.signature)
    (keys_dir / "README").write_text("hub keys of the cohort\n")
    return Cohort(tmp_path, identity_file, recipient, keys_dir, hubs)


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_keygen_is_private_and_opens_with_age(
    cohort: Cohort, age_bin: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stat.S_IMODE(cohort.identity_file.stat().st_mode) == 0o600
    assert cohort.recipient.startswith("age1")
    assert main(["research", "keygen", "-o", str(cohort.identity_file)]) == 1
    assert "already exists" in capsys.readouterr().err
    age = cohort.sealed("p-001", DAYS[0])
    out = subprocess.run(
        [age_bin, "-d", "-i", str(cohort.identity_file), str(age)], capture_output=True, check=True
    )
    assert json.loads(out.stdout)["participant_id"] == "p-001"


def test_verify_a_cohort_directory(cohort: Cohort, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["research", "verify", str(cohort.root), "--hub-key", str(cohort.keys_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert all(line.startswith("OK ") for line in lines)
    assert f"hub {cohort.hubs['p-002'].hub_id}" in lines[-1]


def test_verify_reports_each_bad_file_and_fails(
    cohort: Cohort, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = cohort.sealed("p-001", DAYS[1])
    _flip(damaged, 200)
    one_key = cohort.keys_dir / "p-001.hub-public-key"
    code = main(["research", "verify", str(cohort.root / "p-001"), "--hub-key", str(one_key)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert [line[:4] for line in lines] == ["OK  ", "FAIL"]
    assert str(damaged) in lines[1]
    # the other home's files against this home's key: wrong hub
    code = main(["research", "verify", str(cohort.root / "p-002"), "--hub-key", str(one_key)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert len(lines) == 2
    assert all(line.startswith("FAIL") and "has no public key here" in line for line in lines)


def test_decrypt_verifies_first(cohort: Cohort, capsys: pytest.CaptureFixture[str]) -> None:
    age = cohort.sealed("p-002", DAYS[0])
    base = ["research", "decrypt", str(age), "-i", str(cohort.identity_file)]
    assert main([*base, "--hub-key", str(cohort.keys_dir)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["participant_id"], summary["date"]) == ("p-002", DAYS[0])
    assert main(base) == 1
    assert "--hub-key" in capsys.readouterr().err
    sig = age.with_name(age.name + ".sig")
    _flip(sig, 40)
    assert main([*base, "--hub-key", str(cohort.keys_dir)]) == 1
    err = capsys.readouterr().err
    assert str(age) in err
    assert main([*base, "--no-verify"]) == 0
    assert json.loads(capsys.readouterr().out)["date"] == DAYS[0]


def test_no_verify_warns(cohort: Cohort, caplog: pytest.LogCaptureFixture) -> None:
    age = cohort.sealed("p-002", DAYS[0])
    assert (
        main(["research", "decrypt", str(age), "-i", str(cohort.identity_file), "--no-verify"]) == 0
    )
    assert "NOT checked" in caplog.text


def test_wrong_identity_names_the_file(
    cohort: Cohort, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.key"
    assert main(["research", "keygen", "-o", str(other)]) == 0
    age = cohort.sealed("p-001", DAYS[0])
    code = main(
        ["research", "decrypt", str(age), "-i", str(other), "--hub-key", str(cohort.keys_dir)]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert str(age) in err
    assert "cannot decrypt" in err


def test_renamed_file_is_caught(cohort: Cohort, capsys: pytest.CaptureFixture[str]) -> None:
    age = cohort.sealed("p-001", DAYS[0])
    moved = age.with_name("p-001_2026-11-25.summary.age")
    age.rename(moved)
    age.with_name(age.name + ".sig").rename(moved.with_name(moved.name + ".sig"))
    base = ["research", "decrypt", str(moved), "-i", str(cohort.identity_file)]
    assert main([*base, "--hub-key", str(cohort.keys_dir)]) == 1
    assert "renamed" in capsys.readouterr().err


def test_export_table_of_two_homes(
    cohort: Cohort, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = cohort.sealed("p-002", DAYS[1])
    corrupt.write_bytes(corrupt.read_bytes()[:-10])
    csv_path, parquet_path = tmp_path / "t.csv", tmp_path / "t.parquet"
    code = main(
        [
            "research",
            "export",
            str(cohort.root),
            "-i",
            str(cohort.identity_file),
            "--hub-key",
            str(cohort.keys_dir),
            "--csv",
            str(csv_path),
            "--parquet",
            str(parquet_path),
        ]
    )
    assert code == 1  # one file failed; the others are still in the table
    assert str(corrupt) in capsys.readouterr().err
    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["participant_id"], r["date"]) for r in rows] == [
        ("p-001", DAYS[0]),
        ("p-001", DAYS[1]),
        ("p-002", DAYS[0]),
    ]
    assert rows[0]["members.member-1.sleep.duration_min"] == "480"
    assert rows[0]["visits.count"] == "1"
    assert json.loads(rows[0]["visits"])[0]["head_count"] == 2
    parquet = pq.read_table(parquet_path)
    assert parquet.num_rows == 3
    assert parquet.column("members.member-1.sleep.duration_min").to_pylist() == [480] * 3
    assert str(parquet.schema.field("members.member-1.minutes_home").type) == "int64"
    assert parquet.column_names == list(rows[0].keys())


def test_pull_copies_only_verified_pairs(
    cohort: Cohort, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _flip(cohort.sealed("p-001", DAYS[0]), 100)
    dest = tmp_path / "pulled"
    code = main(
        [
            "research",
            "pull",
            str(cohort.root / "p-001" / "outbox"),
            "-d",
            str(dest),
            "--hub-key",
            str(cohort.keys_dir),
        ]
    )
    assert code == 1
    assert sorted(p.name for p in dest.iterdir()) == [
        f"p-001_{DAYS[1]}.summary.age",
        f"p-001_{DAYS[1]}.summary.age.sig",
    ]


def test_hub_key_prints_the_public_key(cohort: Cohort, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["research", "hub-key", "--data-dir", str(cohort.root / "p-001")]) == 0
    assert capsys.readouterr().out == cohort.hubs["p-001"].public_text()
    assert main(["research", "hub-key", "--data-dir", str(cohort.root / "nowhere")]) == 1
    assert "no device key" in capsys.readouterr().err


def test_summary_claiming_another_hub_is_caught(
    cohort: Cohort, capsys: pytest.CaptureFixture[str]
) -> None:
    # hub p-001 seals a summary that claims to come from hub p-002
    summary = make_summary(participant_id="p-003", hub_id=cohort.hubs["p-002"].hub_id)
    sealed = seal(summary_bytes(summary), [cohort.recipient], cohort.hubs["p-001"])
    outbox = Outbox(cohort.root / "p-003")
    age = outbox.put("p-003_2026-11-22", sealed.ciphertext, sealed.signature)
    base = ["research", "decrypt", str(age), "-i", str(cohort.identity_file)]
    assert main([*base, "--hub-key", str(cohort.keys_dir)]) == 1
    assert "but was signed by hub" in capsys.readouterr().err


def test_verify_names_a_missing_signature(
    cohort: Cohort, capsys: pytest.CaptureFixture[str]
) -> None:
    age = cohort.sealed("p-002", DAYS[0])
    age.with_name(age.name + ".sig").unlink()
    code = main(["research", "verify", str(age), "--hub-key", str(cohort.keys_dir)])
    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL")
    assert f"{age.name}.sig" in out
