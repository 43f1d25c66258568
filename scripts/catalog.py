"""The DCAT-AP 3.0.1 catalogue and the schema.org Dataset descriptions, derived from what is published.

Pure functions: their inputs are the site metadata (build/metadata.json), the release's data
package (build/releases/<version>/datapackage.json, which carries every table's titles,
descriptions and schema as written once in datasets/), build/release.json (version, date,
checksums, sizes), the base URL the catalogue is served from, and each table's temporal span
(computed from its data by the caller with `temporal_columns` and `span_of`).

Controlled-vocabulary terms (EU data themes, file types, language, access right, licence type)
are typed and put in their concept scheme inside the graph itself, because a harvester or
validator working offline cannot look them up (DCAT-AP's SHACL shapes check `skos:inScheme`).
"""

from __future__ import annotations

import datetime
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, OWL, RDF, RDFS, SKOS, XSD

from serve.i18n import gettext

from .project import DATABASE, read_release

ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
# DCAT 3 terms that rdflib's DCAT namespace (DCAT 2) does not define yet.
DCAT_VERSION = URIRef(str(DCAT) + "version")
AUTHORITY = "http://publications.europa.eu/resource/authority/"

# The EU vocabularies' own labels, repeated here because the graph must carry them offline.
SCHEMES = {
    "data-theme": ("Data theme", "Datathema"),
    "file-type": ("File type", "Bestandstype"),
    "language": ("Language", "Taal"),
    "access-right": ("Access right", "Toegangsrecht"),
    "licence": ("Licence", "Licentie"),
}
THEMES = {
    "JUST": ("Justice, legal system and public safety", "Justitie, rechtsstelsel en openbare veiligheid"),
    "HEAL": ("Health", "Gezondheid"),
    "SOCI": ("Population and society", "Bevolking en samenleving"),
    "AGRI": ("Agriculture, fisheries, forestry and food", "Landbouw, visserij, bosbouw en voeding"),
    "ECON": ("Economy and finance", "Economie en financiën"),
    "EDUC": ("Education, culture and sport", "Onderwijs, cultuur en sport"),
    "ENER": ("Energy", "Energie"),
    "ENVI": ("Environment", "Milieu"),
    "GOVE": ("Government and public sector", "Overheid en publieke sector"),
    "INTR": ("International issues", "Internationale vraagstukken"),
    "REGI": ("Regions and cities", "Regio's en steden"),
    "TECH": ("Science and technology", "Wetenschap en technologie"),
    "TRAN": ("Transport", "Vervoer"),
}
LANGUAGES = {
    "nl": ("NLD", "Dutch", "Nederlands"),
    "en": ("ENG", "English", "Engels"),
    "fr": ("FRA", "French", "Frans"),
    "de": ("DEU", "German", "Duits"),
}
# Place names of plugins.drugbeleid.spatial and their GeoNames URI (DCAT-AP accepts GeoNames);
# `spatial_uri` in the plugin configuration overrides this.
PLACES = {"Vlaanderen": ("https://sws.geonames.org/3337388/", "Flanders")}
# The EU licence vocabulary's term for each licence URL the site may name (MQA scores a licence
# from a controlled vocabulary); the licence's own URL stays beside it as skos:exactMatch.
EU_LICENCES = {
    "https://creativecommons.org/licenses/by/4.0/": "CC_BY_4_0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0",
}
LICENCE_TYPE_ATTRIBUTION = URIRef("http://purl.org/adms/licencetype/Attribution")
LICENCE_TYPES = URIRef("http://purl.org/adms/licencetype/1.0")
# The DCAT-AP 3.0.1 shapes require the algorithm IRI to start with https://spdx.org/rdf/terms;
# SPDX itself names it with http. Both are given, linked by owl:sameAs.
SHA256 = URIRef("https://spdx.org/rdf/terms#checksumAlgorithm_sha256")
SHA256_SPDX = SPDX.checksumAlgorithm_sha256
IANA = "https://www.iana.org/assignments/media-types/"
# (format key, EU file type or None, IANA media type)
FORMATS = {
    "csv": ("CSV", "text/csv"),
    "json": ("JSON", "application/json"),
    "sqlite": (None, "application/vnd.sqlite3"),  # no EU file-type term for SQLite: media type only
    "zip": ("ZIP", "application/zip"),
}
# A JSON distribution has a download URL (the whole table as one JSON array) only when the table
# fits in one page of the API: Datasette returns at most max_returned_rows rows per request.
JSON_DOWNLOAD_QUERY = "?_shape=array&_size=max"
TEMPORAL_TYPES = {"date", "datetime", "year", "yearmonth"}
ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")

CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCT),
    "foaf": str(FOAF),
    "owl": str(OWL),
    "skos": str(SKOS),
    "xsd": str(XSD),
    "adms": str(ADMS),
    "dcatap": str(DCATAP),
    "spdx": str(SPDX),
    "vcard": str(VCARD),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
}


# ---------------------------------------------------------------- inputs


def read_published(database: Path) -> tuple[dict, dict, dict]:
    """(site metadata, release, data package) as published beside the database file."""
    build_dir = Path(database).resolve().parent
    site = json.loads((build_dir / "metadata.json").read_text(encoding="utf-8"))
    release = read_release(build_dir)
    package = json.loads((build_dir / "datapackage.json").read_text(encoding="utf-8"))
    return site, release, package


def plugin_config(site: dict) -> dict:
    return site.get("plugins", {}).get(DATABASE, {})


def temporal_columns(schema: dict) -> list[str]:
    """Columns whose values are dates or years: a Table Schema date/year type, a string constrained
    to an ISO 8601 date pattern, or an integer column named `year`."""
    columns = []
    for field in schema.get("fields", []):
        pattern = field.get("constraints", {}).get("pattern", "")
        if (
            field.get("type") in TEMPORAL_TYPES
            or (field.get("type") == "string" and pattern.startswith("^[0-9]{4}"))
            or (field.get("type") == "integer" and (field["name"] == "year" or field["name"].endswith("_year")))
        ):
            columns.append(field["name"])
    return columns


def _bounds(value) -> tuple[datetime.date, datetime.date, str] | None:
    """First day, last day and the ISO text (at its own precision) of a year or date value."""
    match = ISO_DATE.match(str(value).strip())
    if not match:
        return None
    year, month, day = match.groups()
    y = int(year)
    if day:
        d = datetime.date(y, int(month), int(day))
        return d, d, d.isoformat()
    if month:
        m = int(month)
        last = datetime.date(y + m // 12, m % 12 + 1, 1) - datetime.timedelta(days=1)
        return datetime.date(y, m, 1), last, f"{y:04d}-{m:02d}"
    return datetime.date(y, 1, 1), datetime.date(y, 12, 31), f"{y:04d}"


def span_of(values) -> tuple[str, str] | None:
    """(start, end) as ISO text of the earliest start and the latest end among the values."""
    bounds = [b for b in map(_bounds, values) if b]
    if not bounds:
        return None
    return min(bounds, key=lambda b: b[0])[2], max(bounds, key=lambda b: b[1])[2]


def catalogue_span(spans: dict[str, tuple[str, str] | None]) -> tuple[str, str] | None:
    return span_of([s for span in spans.values() if span for s in span])


# ---------------------------------------------------------------- text


class _LanguageText(HTMLParser):
    """Collects the text of an HTML fragment per `lang` attribute (nearest enclosing one)."""

    def __init__(self, default: str):
        super().__init__()
        self.stack: list[str] = [default]
        self.parts: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag not in ("br", "img", "hr", "meta", "wbr"):
            self.stack.append(dict(attrs).get("lang", self.stack[-1]))

    def handle_endtag(self, tag):
        if len(self.stack) > 1 and tag not in ("br", "img", "hr", "meta", "wbr"):
            self.stack.pop()

    def handle_data(self, data):
        self.parts.setdefault(self.stack[-1], []).append(data)


def text_by_language(fragment: str, default: str) -> dict[str, str]:
    parser = _LanguageText(default)
    parser.feed(fragment or "")
    parser.close()
    texts = {lang: " ".join("".join(parts).split()) for lang, parts in parser.parts.items()}
    return {lang: text for lang, text in texts.items() if text}


def titles(resource: dict, language: str) -> dict[str, str]:
    return {k: v for k, v in {language: resource.get(f"title_{language}"), "en": resource.get("title")}.items() if v}


def descriptions(resource: dict, language: str) -> dict[str, str]:
    return {
        k: v
        for k, v in {language: resource.get(f"description_{language}"), "en": resource.get("description")}.items()
        if v
    }


# ---------------------------------------------------------------- URLs


class Urls:
    """Every URL the catalogue names, relative to the base URL it is served from. What the catalogue
    describes is named by a fragment of the page that shows it: the catalogue, publisher, contact
    and rights on the home page (#catalog, ...), each dataset and its distributions on its table's
    page (#dataset, #csv, #json) and the whole database's on the database page (#dataset, #sqlite,
    #zip)."""

    def __init__(self, base: str):
        self.base = base if base.endswith("/") else base + "/"

    def absolute(self, path: str, fragment: str = ""):
        """A path of the site, with or without its leading slash."""
        return URIRef(self.base + path.lstrip("/") + (f"#{fragment}" if fragment else ""))

    def home(self, fragment: str = ""):
        return self.absolute("", fragment)

    def page(self, table: str | None = None, fragment: str = ""):
        """The page of one table, or of the whole database."""
        return self.absolute(DATABASE if table is None else f"{DATABASE}/{table}", fragment)

    def csv(self, table):
        return self.absolute(f"data/{table}.csv")

    def json(self, table):
        return self.absolute(f"{DATABASE}/{table}.json")

    def json_download(self, table):
        return self.absolute(f"{DATABASE}/{table}.json{JSON_DOWNLOAD_QUERY}")

    def database(self):
        return self.absolute(f"{DATABASE}.db")

    def zip(self):
        return self.absolute(f"{DATABASE}.zip")


# ---------------------------------------------------------------- the DCAT-AP graph


def _tagged(graph: Graph, subject, predicate, texts: dict[str, str]) -> None:
    for lang, text in texts.items():
        graph.add((subject, predicate, Literal(text, lang=lang)))


def _concept(graph: Graph, iri: URIRef, scheme: URIRef, labels: dict[str, str], *types) -> URIRef:
    graph.add((iri, RDF.type, SKOS.Concept))
    for t in types:
        graph.add((iri, RDF.type, t))
    graph.add((iri, SKOS.inScheme, scheme))
    _tagged(graph, iri, SKOS.prefLabel, labels)
    return iri


def _scheme(graph: Graph, iri: URIRef, labels: dict[str, str]) -> URIRef:
    graph.add((iri, RDF.type, SKOS.ConceptScheme))
    _tagged(graph, iri, DCT.title, labels)
    return iri


def _authority(graph: Graph, name: str) -> URIRef:
    en, nl = SCHEMES[name]
    return _scheme(graph, URIRef(AUTHORITY + name), {"en": en, "nl": nl})


def _date(text: str) -> Literal:
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth}.get(len(text), XSD.date)
    return Literal(text, datatype=datatype)


def _checksum(graph: Graph, subject, sha256: str) -> None:
    checksum = BNode()
    graph.add((subject, SPDX.checksum, checksum))
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((checksum, SPDX.algorithm, SHA256))
    graph.add((checksum, SPDX.checksumValue, Literal(sha256, datatype=XSD.hexBinary)))


class _Shared:
    """The nodes every dataset points to: publisher, contact, licence, language, themes, place."""

    def __init__(self, graph: Graph, site: dict, urls: Urls):
        config = plugin_config(site)
        self.language_code = config.get("language", "nl")
        code, en, nl = LANGUAGES[self.language_code]
        self.language = _concept(
            graph,
            URIRef(f"{AUTHORITY}language/{code}"),
            _authority(graph, "language"),
            {"en": en, "nl": nl},
            DCT.LinguisticSystem,
        )

        names = config.get("publisher", {})
        self.publisher = urls.home("publisher")
        # foaf:Agent for DCAT-AP, dct:Agent for DCAT-AP-VL, an organisation for both.
        graph.add((self.publisher, RDF.type, FOAF.Agent))
        graph.add((self.publisher, RDF.type, DCT.Agent))
        graph.add((self.publisher, RDF.type, FOAF.Organization))
        _tagged(
            graph,
            self.publisher,
            FOAF.name,
            {k: v for k, v in {self.language_code: names.get("name"), "en": names.get("name_en")}.items() if v},
        )
        graph.add((self.publisher, FOAF.homepage, urls.home()))

        # An organisation's web page (plugins.drugbeleid.contact_point), never a person's address.
        contact = config.get("contact_point") or {}
        self.contact = urls.home("contact")
        graph.add((self.contact, RDF.type, VCARD.Kind))
        graph.add((self.contact, RDF.type, VCARD.Organization))
        _tagged(
            graph,
            self.contact,
            VCARD.fn,
            {
                k: v
                for k, v in {
                    self.language_code: contact.get("name") or names.get("name") or site.get("title"),
                    "en": contact.get("name_en") or names.get("name_en"),
                }.items()
                if v
            },
        )
        page = urls.absolute(contact.get("url", "/"))
        graph.add((self.contact, VCARD.hasURL, page))
        graph.add((self.contact, FOAF.page, page))

        licence_url = site["license_url"]
        eu_licence = EU_LICENCES.get(licence_url)
        self.licence = URIRef(f"{AUTHORITY}licence/{eu_licence}") if eu_licence else URIRef(licence_url)
        graph.add((self.licence, RDF.type, DCT.LicenseDocument))
        graph.add((self.licence, DCT.title, Literal(site["license"])))
        if eu_licence:
            graph.add((self.licence, RDF.type, SKOS.Concept))
            graph.add((self.licence, SKOS.inScheme, _authority(graph, "licence")))
            graph.add((self.licence, SKOS.prefLabel, Literal(site["license"])))
            graph.add((self.licence, SKOS.exactMatch, URIRef(licence_url)))
        graph.add(
            (
                self.licence,
                DCT.type,
                _concept(
                    graph,
                    LICENCE_TYPE_ATTRIBUTION,
                    _scheme(graph, LICENCE_TYPES, {"en": "Licence type"}),
                    {"en": "Attribution"},
                ),
            )
        )

        # What may be done with the data and with the source documents it republishes, as stated
        # in metadata.yml (licence, plugins.drugbeleid.source_documents_licence).
        self.rights = urls.home("rights")
        graph.add((self.rights, RDF.type, DCT.RightsStatement))
        statement = f"Data: {site['license']} ({licence_url})."
        if config.get("source_documents_licence"):
            statement += " Source documents: " + " ".join(config["source_documents_licence"].split())
        graph.add((self.rights, RDFS.label, Literal(statement, lang="en")))

        keywords = config.get("keywords") or {}
        self.keywords = {lang: list(words) for lang, words in keywords.items()}

        self.access = _concept(
            graph,
            URIRef(f"{AUTHORITY}access-right/PUBLIC"),
            _authority(graph, "access-right"),
            {"en": "public", "nl": "publiek"},
            DCT.RightsStatement,
        )

        self.theme_scheme = _authority(graph, "data-theme")
        self.themes = []
        for code in config.get("themes", []):
            en, nl = THEMES[code]
            self.themes.append(
                _concept(graph, URIRef(f"{AUTHORITY}data-theme/{code}"), self.theme_scheme, {"en": en, "nl": nl})
            )

        self.place = None
        place_name = config.get("spatial")
        if place_name:
            known_uri, name_en = PLACES.get(place_name, (None, None))
            uri = config.get("spatial_uri") or known_uri
            self.place = URIRef(uri) if uri else BNode()
            graph.add((self.place, RDF.type, DCT.Location))
            _tagged(
                graph,
                self.place,
                SKOS.prefLabel,
                {k: v for k, v in {self.language_code: place_name, "en": name_en}.items() if v},
            )

        self.file_types = {}
        self.media_types = {}
        file_type_scheme = None
        for key, (file_type, media_type) in FORMATS.items():
            if file_type:
                file_type_scheme = file_type_scheme or _authority(graph, "file-type")
                self.file_types[key] = _concept(
                    graph,
                    URIRef(f"{AUTHORITY}file-type/{file_type}"),
                    file_type_scheme,
                    {"en": file_type},
                    DCT.MediaTypeOrExtent,
                )
            media = URIRef(IANA + media_type)
            graph.add((media, RDF.type, DCT.MediaType))
            graph.add((media, RDF.type, DCT.MediaTypeOrExtent))
            graph.add((media, RDF.value, Literal(media_type)))
            self.media_types[key] = media

        graph.add((SHA256, RDF.type, SPDX.ChecksumAlgorithm))
        graph.add((SHA256, OWL.sameAs, SHA256_SPDX))


def _distribution(
    graph: Graph,
    shared: _Shared,
    distribution: URIRef,
    key: str,
    title: dict[str, str],
    access: URIRef,
    download: URIRef | None,
    issued: Literal,
    size: int | None,
    sha256: str | None,
    identifier: str,
) -> URIRef:
    graph.add((distribution, RDF.type, DCAT.Distribution))
    _tagged(graph, distribution, DCT.title, title)
    graph.add((distribution, DCT.identifier, Literal(identifier)))
    graph.add((distribution, DCAT.accessURL, access))
    if download:
        graph.add((distribution, DCAT.downloadURL, download))
    graph.add((distribution, DCAT.mediaType, shared.media_types[key]))
    if key in shared.file_types:
        graph.add((distribution, DCT.format, shared.file_types[key]))
    graph.add((distribution, DCT.license, shared.licence))
    graph.add((distribution, DCT.rights, shared.rights))
    graph.add((distribution, DCT.language, shared.language))
    graph.add((distribution, DCT.issued, issued))
    graph.add((distribution, DCT.modified, issued))
    if size is not None:
        graph.add((distribution, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
    if sha256:
        _checksum(graph, distribution, sha256)
    return distribution


FORMAT_LABELS = {
    "csv": {"nl": "CSV-bestand", "en": "CSV file"},
    "json": {"nl": "JSON-API (gepagineerd)", "en": "JSON API (paginated)"},
    "sqlite": {"nl": "volledige SQLite-database", "en": "whole SQLite database"},
    "zip": {
        "nl": "datapakket: alle CSV-bestanden en datapackage.json in één zip",
        "en": "data package: every CSV and datapackage.json in one zip",
    },
}


def distribution_title(title: dict[str, str], key: str) -> dict[str, str]:
    return {lang: f"{text} — {FORMAT_LABELS[key][lang]}" for lang, text in title.items() if lang in FORMAT_LABELS[key]}


def _describe_dataset(
    graph: Graph,
    shared: _Shared,
    dataset: URIRef,
    title: dict[str, str],
    description: dict[str, str],
    identifier: str,
    span,
    page: URIRef,
    issued: Literal,
    version: str,
    semver: str | None = None,
) -> None:
    graph.add((dataset, RDF.type, DCAT.Dataset))
    _tagged(graph, dataset, DCT.title, title)
    _tagged(graph, dataset, DCT.description, description)
    graph.add((dataset, DCT.identifier, Literal(identifier)))
    for lang, words in shared.keywords.items():
        for word in words:
            graph.add((dataset, DCAT.keyword, Literal(word, lang=lang)))
    for theme in shared.themes:
        graph.add((dataset, DCAT.theme, theme))
    graph.add((dataset, DCT.language, shared.language))
    graph.add((dataset, DCT.publisher, shared.publisher))
    graph.add((dataset, DCAT.contactPoint, shared.contact))
    graph.add((dataset, DCT.accessRights, shared.access))
    if shared.place is not None:
        graph.add((dataset, DCT.spatial, shared.place))
    if span:
        period = BNode()
        graph.add((dataset, DCT.temporal, period))
        graph.add((period, RDF.type, DCT.PeriodOfTime))
        graph.add((period, DCAT.startDate, _date(span[0])))
        graph.add((period, DCAT.endDate, _date(span[1])))
    graph.add((dataset, DCT.issued, issued))
    graph.add((dataset, DCT.modified, issued))
    # dcat:version: the semantic version (MAJOR.MINOR.PATCH, docs/releases.md); owl:versionInfo:
    # the content version, the release's immutable identifier
    graph.add((dataset, DCAT_VERSION, Literal(semver or version)))
    graph.add((dataset, OWL.versionInfo, Literal(version)))
    graph.add((dataset, DCAT.landingPage, page))
    graph.add((page, RDF.type, FOAF.Document))


def catalog_graph(
    site: dict,
    package: dict,
    release: dict,
    base_url: str,
    spans: dict[str, tuple[str, str] | None],
    json_sizes: dict[str, int | None] | None = None,
) -> Graph:
    """One dcat:Catalog; a dcat:Dataset per table with a CSV and a JSON distribution; and the whole
    database as one more dataset, with the SQLite file and the zipped data package.

    `json_sizes`: the tables whose whole content one JSON request returns (at most
    max_returned_rows rows), with the byte size of that response when known; those JSON
    distributions get a download URL."""
    urls = Urls(base_url)
    json_sizes = json_sizes or {}
    graph = Graph()
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    shared = _Shared(graph, site, urls)
    language = shared.language_code
    # Each release is published whole, on its date: the date of issue and of the last change of
    # every dataset and file in it.
    issued = Literal(release["date"], datatype=XSD.date)
    version = release["version"]
    overall = catalogue_span(spans)

    catalog = urls.home("catalog")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    site_titles = {k: v for k, v in {language: site["title"], "en": site_title_en(site)}.items() if v}
    _tagged(graph, catalog, DCT.title, site_titles)
    site_descriptions = text_by_language(site.get("description_html", ""), language)
    _tagged(graph, catalog, DCT.description, site_descriptions)
    graph.add((catalog, DCT.identifier, Literal(package.get("name", DATABASE))))
    graph.add((catalog, DCT.publisher, shared.publisher))
    graph.add((catalog, DCAT.contactPoint, shared.contact))
    graph.add((catalog, FOAF.homepage, urls.home()))
    graph.add((urls.home(), RDF.type, FOAF.Document))
    graph.add((catalog, DCT.language, shared.language))
    graph.add((catalog, DCT.license, shared.licence))
    graph.add((catalog, DCT.issued, issued))
    graph.add((catalog, DCT.modified, issued))
    graph.add((catalog, OWL.versionInfo, Literal(version)))
    graph.add((catalog, DCAT.themeTaxonomy, shared.theme_scheme))
    if shared.place is not None:
        graph.add((catalog, DCT.spatial, shared.place))

    for resource in package["resources"]:
        table = resource["name"]
        dataset = urls.page(table, "dataset")
        graph.add((catalog, DCAT.dataset, dataset))
        title = titles(resource, language)
        _describe_dataset(
            graph,
            shared,
            dataset,
            title,
            descriptions(resource, language),
            f"{DATABASE}/{table}",
            spans.get(table) or overall,
            urls.page(table),
            issued,
            version,
            release.get("semver"),
        )
        csv_file = release["tables"].get(table) or {}
        fits = table in json_sizes
        for key, access, download, size, sha256 in [
            ("csv", urls.csv(table), urls.csv(table), csv_file.get("bytes"), csv_file.get("sha256")),
            ("json", urls.json(table), urls.json_download(table) if fits else None, json_sizes.get(table), None),
        ]:
            distribution = _distribution(
                graph,
                shared,
                urls.page(table, key),
                key,
                distribution_title(title, key),
                access,
                download,
                issued,
                size,
                sha256,
                f"{DATABASE}/{table}/{key}",
            )
            graph.add((dataset, DCAT.distribution, distribution))

    # The whole database: the SQLite file and the zipped data package hold every table at once.
    whole = urls.page(fragment="dataset")
    graph.add((catalog, DCAT.dataset, whole))
    _describe_dataset(
        graph,
        shared,
        whole,
        site_titles,
        site_descriptions,
        DATABASE,
        overall,
        urls.page(),
        issued,
        version,
        release.get("semver"),
    )
    for key, url, file in [
        ("sqlite", urls.database(), release["database"]),
        ("zip", urls.zip(), release.get("zip") or {}),
    ]:
        distribution = _distribution(
            graph,
            shared,
            urls.page(fragment=key),
            key,
            distribution_title(site_titles, key),
            url,
            url,
            issued,
            file.get("bytes"),
            file.get("sha256"),
            f"{DATABASE}/{key}",
        )
        graph.add((whole, DCAT.distribution, distribution))
    return graph


def site_title_en(site: dict) -> str | None:
    """The site's English title, as the pages write it (English is the message of the catalogues)."""
    return gettext("Drug treatment courts and drug policy in prisons — open data", "en")


def to_turtle(graph: Graph) -> str:
    return graph.serialize(format="turtle")


def to_jsonld(graph: Graph) -> str:
    return graph.serialize(format="json-ld", context=CONTEXT, indent=2)


# ---------------------------------------------------------------- schema.org


def schema_org_dataset(
    site: dict, package: dict, release: dict, base_url: str, spans: dict[str, tuple[str, str] | None], table: str
) -> dict | None:
    """A schema.org Dataset for one table page, as dataset search engines read it."""
    resource = next((r for r in package["resources"] if r["name"] == table), None)
    if resource is None:
        return None
    urls = Urls(base_url)
    config = plugin_config(site)
    language = config.get("language", "nl")
    title, description = titles(resource, language), descriptions(resource, language)
    publisher = schema_org_publisher(config, urls)
    span = spans.get(table) or catalogue_span(spans)
    downloads = [{"@type": "DataDownload", "encodingFormat": "text/csv", "contentUrl": str(urls.csv(table))}]
    if table in release["tables"]:
        downloads[0].update(
            contentSize=f"{release['tables'][table]['bytes']} B", sha256=release["tables"][table]["sha256"]
        )
    downloads += [
        {"@type": "DataDownload", "encodingFormat": "application/json", "contentUrl": str(urls.json(table))},
        {
            "@type": "DataDownload",
            "encodingFormat": "application/vnd.sqlite3",
            "contentUrl": str(urls.database()),
            "contentSize": f"{release['database']['bytes']} B",
            "sha256": release["database"]["sha256"],
        },
    ]
    dataset = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": str(urls.page(table, "dataset")),
        "url": str(urls.page(table)),
        "name": tagged(title, language),
        "description": tagged(description, language),
        "identifier": f"{DATABASE}/{table}",
        "version": release.get("semver") or release["version"],
        "dateModified": release["date"],
        "inLanguage": [lang for lang in (language, "en") if lang in description],
        "isAccessibleForFree": True,
        "license": site.get("license_url"),
        "keywords": schema_org_keywords(config),
        "publisher": publisher,
        "creator": publisher,
        "includedInDataCatalog": {
            "@type": "DataCatalog",
            "url": urls.base,
            "name": tagged({language: site.get("title"), "en": site_title_en(site)}, language),
        },
        "distribution": downloads,
        "variableMeasured": [
            {
                "@type": "PropertyValue",
                "name": field["name"],
                "description": tagged(descriptions(field, language), language),
                **({"unitText": field["unit"]} if field.get("unit") else {}),
            }
            for field in resource.get("schema", {}).get("fields", [])
        ],
    }
    if span:
        dataset["temporalCoverage"] = f"{span[0]}/{span[1]}"
    place = config.get("spatial")
    if place:
        same_as = config.get("spatial_uri") or PLACES.get(place, (None,))[0]
        dataset["spatialCoverage"] = {"@type": "Place", "name": place, **({"sameAs": same_as} if same_as else {})}
    return dataset


def schema_org_publisher(config: dict, urls: Urls) -> dict:
    return {"@type": "Organization", "name": config.get("publisher", {}).get("name"), "url": urls.base}


def schema_org_keywords(config: dict) -> list[dict]:
    """The keywords of plugins.drugbeleid.keywords (the same as the catalogue's), each tagged with its language."""
    return [
        {"@language": lang, "@value": word}
        for lang, words in (config.get("keywords") or {}).items()
        for word in dict.fromkeys(words)
    ]


def schema_org_catalog(
    site: dict, package: dict, release: dict, base_url: str, spans: dict[str, tuple[str, str] | None]
) -> dict:
    """The home page's schema.org DataCatalog: the site, and each table as a Dataset (its table
    page carries the full description)."""
    urls = Urls(base_url)
    config = plugin_config(site)
    language = config.get("language", "nl")
    publisher = schema_org_publisher(config, urls)
    site_descriptions = text_by_language(site.get("description_html", ""), language)
    span = catalogue_span(spans)
    catalogue = {
        "@context": "https://schema.org/",
        "@type": "DataCatalog",
        "@id": str(urls.home("catalog")),
        "url": urls.base,
        "name": tagged({language: site.get("title"), "en": site_title_en(site)}, language),
        "description": tagged(site_descriptions, language),
        "inLanguage": [lang for lang in (language, "en") if lang in site_descriptions],
        "license": site.get("license_url"),
        "isAccessibleForFree": True,
        "keywords": schema_org_keywords(config),
        "publisher": publisher,
        "creator": publisher,
        "version": release.get("semver") or release["version"],
        "dateModified": release["date"],
        "sameAs": [str(urls.absolute("catalog.ttl"))],
        "dataset": [],
    }
    if span:
        catalogue["temporalCoverage"] = f"{span[0]}/{span[1]}"
    for resource in package["resources"]:
        title = titles(resource, language)
        catalogue["dataset"].append(
            {
                "@type": "Dataset",
                "@id": str(urls.page(resource["name"], "dataset")),
                "url": str(urls.page(resource["name"])),
                "name": tagged(title, language),
                "description": tagged(descriptions(resource, language), language),
                "license": site.get("license_url"),
                "creator": publisher,
                "isAccessibleForFree": True,
            }
        )
    return catalogue


def tagged(texts: dict[str, str | None], language: str) -> list[dict]:
    """A schema.org text written in two languages as JSON-LD value objects, one per language, each
    tagged with its language (the site's first): never two languages in one string."""
    return [{"@language": lang, "@value": texts[lang]} for lang in (language, "en") if texts.get(lang)]


def script_json(data: dict) -> str:
    """JSON safe inside an HTML <script> element: no '<' can close it early."""
    return (
        json.dumps(data, ensure_ascii=False, indent=2)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
