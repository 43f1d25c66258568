"""Provenance as a reader sees it: each document as its text with an anchor per paragraph, and on
row pages the row's verbatim values highlighted inside their paragraphs."""

from __future__ import annotations

from html.parser import HTMLParser

from datasette.utils import tilde_encode

from scripts.text import normalise

from .conftest import read_csv


class Html(HTMLParser):
    """What a page shows, as far as these tests need it: ids, links, class members, <mark> texts."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids, self.hrefs, self.marks, self.classes = set(), [], [], {}
        self._mark = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        for name in (attrs.get("class") or "").split():
            self.classes.setdefault(name, []).append(attrs)
        if tag == "mark":
            self._mark = []

    def handle_data(self, data):
        if self._mark is not None:
            self._mark.append(data)

    def handle_endtag(self, tag):
        if tag == "mark" and self._mark is not None:
            self.marks.append("".join(self._mark))
            self._mark = None


def provenance_section(page: str) -> str:
    start = page.index('id="provenance"')
    return page[start : page.index("</section>", start)]


def row_path(table: str, row_key: str) -> str:
    return f"/drugbeleid/{table}/" + ",".join(tilde_encode(part) for part in row_key.split(","))


async def test_documents_index_lists_every_document(datasette):
    response = await datasette.client.get("/documents")
    assert response.status_code == 200
    links = Html(response.text).hrefs
    for document in read_csv("documents"):
        assert f"/documents/{document['id']}" in links
        assert document["title"] in response.text


async def test_document_page_has_one_anchor_per_passage_in_order(datasette):
    for document in read_csv("documents"):
        response = await datasette.client.get(f"/documents/{document['id']}")
        assert response.status_code == 200
        page = Html(response.text)
        passages = (
            await datasette.client.get(
                f"/drugbeleid/passages.json?_shape=objects&_size=max&document_id={document['id']}&_sort=ordinal"
            )
        ).json()["rows"]
        assert passages
        assert [p["id"] for p in page.classes["passage"]] == [p["id"] for p in passages]
        assert {f"#{p['id']}" for p in passages} <= set(page.hrefs)  # a visible link to each anchor
        assert document["title"] in response.text
        assert f"/drugbeleid/documents/{document['id']}" in page.hrefs
        assert passages[-1]["text"].replace("'", "&#39;").replace('"', "&#34;") in response.text


async def test_document_page_says_what_the_source_does_not_state(datasette):
    undated = next(d for d in read_csv("documents") if d["kind"] == "written_question" and not d["question_number"])
    dutch = (await datasette.client.get(f"/documents/{undated['id']}")).text
    english = (await datasette.client.get(f"/documents/{undated['id']}?_lang=en")).text
    assert "niet vermeld in de bron" in dutch and "not stated in the source" in english
    dated = next(d for d in read_csv("documents") if d["question_number"])
    page = (await datasette.client.get(f"/documents/{dated['id']}")).text
    assert dated["date"] in page and f">{dated['question_number']}<" in page and dated["asked_by"] in page


async def test_document_page_shows_the_checksum_of_the_stored_copy_and_of_the_text_as_received(datasette):
    documents = read_csv("documents")
    assert any(d["sha256_received"] != d["sha256"] for d in documents)  # the redacted presentation
    for document in documents:
        dutch = (await datasette.client.get(f"/documents/{document['id']}")).text
        english = (await datasette.client.get(f"/documents/{document['id']}?_lang=en")).text
        for page, as_received in (
            (dutch, "zoals ontvangen, vóór het verwijderen van persoonsgegevens"),
            (english, "as received, before personal data was redacted"),
        ):
            assert f"<code>{document['sha256']}</code>" in page, document["id"]
            if document["sha256_received"] == document["sha256"]:
                assert as_received not in page, document["id"]
            else:
                assert f"{as_received} <code>{document['sha256_received']}</code>" in page, document["id"]


async def test_unknown_document_is_404(datasette):
    assert (await datasette.client.get("/documents/no-such-document")).status_code == 404
    assert (await datasette.client.get("/documents/%3Cscript%3E")).status_code == 404


async def test_row_page_marks_each_verbatim_value_inside_its_passage(datasette):
    """One row of every table with located values: the <mark>s of each value, joined, are the value."""
    locations = (await datasette.client.get("/drugbeleid/quote_locations.json?_shape=objects&_size=max")).json()["rows"]
    first_of_table = {}
    for location in locations:
        first_of_table.setdefault(location["table_name"], location["row_key"])
    assert len(first_of_table) >= 10
    titles = {d["id"]: d["title"] for d in read_csv("documents")}
    for table, row_key in first_of_table.items():
        path = row_path(table, row_key)
        row = (await datasette.client.get(f"{path}.json?_shape=objects")).json()["rows"][0]
        response = await datasette.client.get(path)
        assert response.status_code == 200, path
        section = provenance_section(response.text)
        page = Html(section)
        for location in (loc for loc in locations if loc["table_name"] == table and loc["row_key"] == row_key):
            value_block = section[section.index(f'data-column="{location["column_name"]}"') :]
            value_block = value_block[: value_block.index("</blockquote>")]
            marks = Html(value_block).marks
            assert " ".join(normalise(m) for m in marks) == normalise(row[location["column_name"]]), (path, location)
            assert titles[location["document_id"]] in value_block
            assert f"/documents/{location['document_id']}#{location['passage_id']}" in page.hrefs


async def test_row_provenance_link_lands_on_an_existing_anchor(datasette):
    response = await datasette.client.get("/drugbeleid/statistics/recidivism-dbk-group")
    links = [h for h in Html(provenance_section(response.text)).hrefs if h.startswith("/documents/")]
    assert links
    for link in links:
        path, anchor = link.split("#")
        assert anchor in Html((await datasette.client.get(path)).text).ids


async def test_passage_row_page_shows_the_passage_and_links_to_its_anchor(datasette):
    passage = read_csv("passages")[10]
    response = await datasette.client.get(f"/drugbeleid/passages/{passage['id']}")
    section = provenance_section(response.text)
    assert passage["text"][:60].replace("'", "&#39;") in section
    assert f"/documents/{passage['document_id']}#{passage['id']}" in Html(section).hrefs


async def test_row_without_located_values_shows_no_provenance_block(datasette):
    response = await datasette.client.get("/drugbeleid/data_quality/1")
    assert response.status_code == 200
    assert 'id="provenance"' not in response.text


async def test_row_provenance_in_english(datasette):
    response = await datasette.client.get("/drugbeleid/caseload/brugge,2020?_lang=en")
    section = provenance_section(response.text)
    assert "Provenance" in section and "/documents/vraag-69-2022?_lang=en#" in section
