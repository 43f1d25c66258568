"""Each pipeline step on its own, on small inputs."""

from __future__ import annotations

from scripts.passages import split_paragraphs
from scripts.provenance import read_checksums
from scripts.text import normalise, personal_data, redact


def test_normalise_only_collapses_whitespace():
    assert normalise("  justitie-\nassistenten\u00a0 en  ‘liaison’ \n") == "justitie- assistenten en ‘liaison’"


def test_split_paragraphs_numbers_lines():
    assert split_paragraphs("a\nb\n\n \nc\n") == [(1, 2, "a b"), (5, 5, "c")]


def test_redaction_is_visible_and_spares_dates_and_figures():
    text = "Mail jan@example.be of bel 09 123 45 67; tot 01.01.2028; 0.92 VTE; art. 56 § 3."
    assert (
        redact(text)
        == "Mail [e-mailadres verwijderd] of bel [telefoonnummer verwijderd]; tot 01.01.2028; 0.92 VTE; art. 56 § 3."
    )
    assert [kind for kind, _ in personal_data(text)] == ["e-mail address", "phone number"]


def test_checksum_file_format(tmp_path):
    path = tmp_path / "sums"
    path.write_text("ab12  one.txt\ncd34 *two.txt\n", encoding="utf-8")
    assert read_checksums(path) == {"one.txt": "ab12", "two.txt": "cd34"}
