"""The repository publishes what the site publishes: whoever clones it gets no e-mail address or phone
number of a person from datasets/, the source texts included (they are stored redacted, with the
SHA-256 of the text as received beside that of the stored copy)."""

from __future__ import annotations

import csv
import hashlib
import subprocess

from scripts.text import EMAIL, EMAIL_MARK, personal_data

from .conftest import DATASETS, ROOT


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "datasets"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listed.stdout.decode("utf-8").split("\0") if name]


def test_no_tracked_file_under_datasets_holds_an_e_mail_address():
    files = tracked_files()
    assert any(name.startswith("datasets/sources/") for name in files), "the source texts are tracked"
    found = {name: EMAIL.findall((ROOT / name).read_bytes().decode("utf-8", "replace")) for name in files}
    assert {name: addresses for name, addresses in found.items() if addresses} == {}


def test_no_tracked_source_text_holds_a_phone_number():
    sources = [name for name in tracked_files() if name.startswith("datasets/sources/")]
    assert {
        name: personal_data((ROOT / name).read_text(encoding="utf-8"))
        for name in sources
        if personal_data((ROOT / name).read_text(encoding="utf-8"))
    } == {}


def test_each_source_has_both_checksums_and_only_redaction_sets_them_apart():
    with open(DATASETS / "documents.csv", encoding="utf-8", newline="") as f:
        documents = list(csv.DictReader(f))
    for document in documents:
        stored = (DATASETS / "sources" / document["source_file"]).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == document["sha256"], document["id"]
        if document["sha256_received"] != document["sha256"]:
            assert EMAIL_MARK.encode("utf-8") in stored, document["id"]
    assert any(d["sha256_received"] != d["sha256"] for d in documents), (
        "the presentation was received with an e-mail address"
    )
