"""Curated entries of the welcome kit: Markdown files with a YAML header.

    kit = load_kit(content_dir, municipality="torre-pellice")
    entry = kit.entry("tax-code", "ar")      # None when there is no such translation
    kit.render(entry)                        # body with local offices filled in

Layout: ``entries/<id>/<language>.md`` and ``municipalities/<town>.yml``.
``read_entry`` raises ``ContentError`` listing every problem of one file; the
linter (``knowledge.lint``) reports them all instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REQUIRED_FIELDS = (
    "id",
    "topic",
    "language",
    "title",
    "sources",
    "jurisdiction",
)
# Every review record has these; `scope` (what was looked at) is optional.
REVIEW_FIELDS = ("date", "by", "against", "changed")
JURISDICTIONS = ("national", "regional", "municipal")
PLACEHOLDER = re.compile(r"\{\{\s*(office:([a-z0-9_]+)|municipality)\s*\}\}")
_HEADER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)


class ContentError(ValueError):
    """One content file has problems; `problems` lists them in plain words."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Review:
    """One check of a file: who, when, against which sources, and what it changed."""

    date: dt.date
    by: str
    against: tuple[str, ...]
    changed: str
    scope: str = ""


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    language: str
    title: str
    body: str
    sources: tuple[Source, ...]
    # The date of the latest review record; None when no review is on record.
    last_reviewed: dt.date | None
    jurisdiction: str
    also_asked: tuple[str, ...] = ()
    translated_from: str | None = None
    reviewed_by_person: bool | None = None
    reviews: tuple[Review, ...] = ()
    # In a translation: text_hash() of the authoritative text it was made from.
    source_hash: str | None = None
    # A 'last_reviewed' written by hand in the header (lint refuses it).
    written_last_reviewed: object = field(default=None, compare=False)
    path: Path | None = field(default=None, compare=False)

    @property
    def is_translation(self) -> bool:
        return self.translated_from is not None


@dataclass(frozen=True)
class Office:
    name: str
    address: str = ""
    hours: str = ""
    phone: str = ""
    url: str = ""  # the office's web page, https:// (optional)

    def describe(self) -> str:
        parts = [f"«{self.name}»", self.address, self.hours]
        if self.phone:
            parts.append(f"tel. {self.phone}")
        parts.append(self.url)
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class Municipality:
    id: str
    name: str
    offices: dict[str, Office]
    example: bool = False

    def render(self, body: str) -> str:
        """Fill {{office:KEY}} and {{municipality}} in with this town's details."""

        def fill(match: re.Match) -> str:
            if match.group(1) == "municipality":
                return self.name
            office = self.offices.get(match.group(2))
            return office.describe() if office else match.group(0)

        return PLACEHOLDER.sub(fill, body)


@dataclass
class Kit:
    entries: list[Entry]
    municipality: Municipality
    content_hash: str
    _by_key: dict[tuple[str, str], Entry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {(e.id, e.language): e for e in self.entries}

    def entry(self, entry_id: str, language: str) -> Entry | None:
        return self._by_key.get((entry_id, language))

    def languages_of(self, entry_id: str) -> list[str]:
        return sorted(lang for (eid, lang) in self._by_key if eid == entry_id)

    def ids(self) -> list[str]:
        return sorted({e.id for e in self.entries})

    def render(self, entry: Entry) -> str:
        """The answer as Markdown, local offices filled in, one line per paragraph or item."""
        return unwrap(self.municipality.render(entry.body))


_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def unwrap(markdown: str) -> str:
    """Join lines that authors wrapped by hand, so that chat apps wrap them themselves."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        lines: list[str] = []
        for line in block.splitlines():
            if lines and not _ITEM.match(line):
                lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def split_front_matter(text: str) -> tuple[dict, str]:
    """Split a Markdown file into its YAML header (a dict) and its body."""
    match = _HEADER.match(text.lstrip("\ufeff"))
    if not match:
        raise ValueError("the file must start with a header between two '---' lines")
    header = yaml.safe_load(match.group(1))
    if not isinstance(header, dict):
        raise ValueError("the header must be a list of 'field: value' lines")
    return header, match.group(2)


def read_entry(path: Path) -> Entry:
    """Read and check one entry file; raise ContentError with every problem found."""
    path = Path(path)
    try:
        header, body = split_front_matter(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ContentError(path, ["the file is not UTF-8 text"]) from None
    except (ValueError, yaml.YAMLError) as exc:
        raise ContentError(path, [f"cannot read the header: {exc}"]) from None
    problems = [f"missing field '{name}'" for name in REQUIRED_FIELDS if not header.get(name)]
    if not body.strip():
        problems.append("the answer below the header is empty")
    sources = _sources(header.get("sources"), problems)
    reviews = _reviews(header.get("reviews"), problems)
    jurisdiction = header.get("jurisdiction")
    if jurisdiction and jurisdiction not in JURISDICTIONS:
        problems.append(f"jurisdiction '{jurisdiction}' must be one of {', '.join(JURISDICTIONS)}")
    translation = header.get("translation") or {}
    if not isinstance(translation, dict):
        problems.append("'translation' must have 'from' and 'reviewed_by_person'")
        translation = {}
    if translation and not isinstance(translation.get("reviewed_by_person"), bool):
        problems.append("'translation.reviewed_by_person' must be true or false")
    source_hash = translation.get("source_hash")
    if source_hash is not None and not isinstance(source_hash, str):
        problems.append("'translation.source_hash' must be text such as 'sha256:0123abcd4567'")
    also_asked = header.get("also_asked") or []
    if not isinstance(also_asked, list):
        problems.append("'also_asked' must be a list of questions")
        also_asked = []
    if problems:
        raise ContentError(path, problems)
    return Entry(
        id=str(header["id"]),
        topic=str(header["topic"]),
        language=str(header["language"]).lower(),
        title=str(header["title"]).strip(),
        body=body.strip(),
        sources=sources,
        last_reviewed=max((review.date for review in reviews), default=None),
        jurisdiction=jurisdiction,
        also_asked=tuple(str(q).strip() for q in also_asked if str(q).strip()),
        translated_from=translation.get("from"),
        reviewed_by_person=translation.get("reviewed_by_person"),
        reviews=reviews,
        source_hash=source_hash,
        written_last_reviewed=header.get("last_reviewed"),
        path=path,
    )


def text_hash(body: str) -> str:
    """A short fingerprint of an answer's text: a translation records the one it was made from."""
    return "sha256:" + hashlib.sha256(body.strip().encode("utf-8")).hexdigest()[:12]


def _sources(raw: object, problems: list[str]) -> tuple[Source, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append("'sources' must be a list of 'title' and 'url' pairs")
        return ()
    sources = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not item.get("title") or not item.get("url"):
            problems.append(f"source {number} needs both 'title' and 'url'")
            continue
        sources.append(Source(title=str(item["title"]).strip(), url=str(item["url"]).strip()))
    return tuple(sources)


def _reviews(raw: object, problems: list[str]) -> tuple[Review, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append("'reviews' must be a list of records with " + ", ".join(REVIEW_FIELDS))
        return ()
    reviews = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(f"review {number} must have {', '.join(REVIEW_FIELDS)}")
            continue
        missing = [name for name in REVIEW_FIELDS if item.get(name) in (None, "", [])]
        if missing:
            problems.append(f"review {number} needs {', '.join(missing)}")
            continue
        day = _date(item["date"], f"review {number}", problems)
        against = item["against"]
        if isinstance(against, str):
            against = [against]
        if not isinstance(against, list) or day is None:
            if day is not None:
                problems.append(f"review {number}: 'against' must be a list of sources")
            continue
        reviews.append(
            Review(
                date=day,
                by=str(item["by"]).strip(),
                against=tuple(str(a).strip() for a in against if str(a).strip()),
                changed=str(item["changed"]).strip(),
                scope=str(item.get("scope") or "").strip(),
            )
        )
    return tuple(reviews)


def _date(raw: object, what: str, problems: list[str]) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        problems.append(f"{what}: date '{raw}' must be written YYYY-MM-DD")
    return None


def load_municipality(content_dir: Path, name: str) -> Municipality:
    path = Path(content_dir) / "municipalities" / f"{name}.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Municipality file {path} not found: set content.municipality in helpdesk.yml "
            "(environment: HELPDESK_MUNICIPALITY) to a file in content/municipalities/"
        ) from None
    offices = {
        key: Office(**{k: str(v) for k, v in value.items() if k in Office.__dataclass_fields__})
        for key, value in (raw.get("offices") or {}).items()
    }
    return Municipality(
        id=raw.get("id", name),
        name=raw["name"],
        offices=offices,
        example=bool(raw.get("example")),
    )


def entry_paths(content_dir: Path) -> list[Path]:
    return sorted((Path(content_dir) / "entries").glob("*/*.md"))


def content_hash(content_dir: Path) -> str:
    """A hash of every content file, so that indexes are rebuilt only when content changes."""
    digest = hashlib.sha256()
    root = Path(content_dir)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_kit(content_dir: Path, municipality: str) -> Kit:
    """Load every entry; raise ContentError for the first broken file (lint lists them all)."""
    entries = [read_entry(path) for path in entry_paths(content_dir)]
    return Kit(
        entries=entries,
        municipality=load_municipality(content_dir, municipality),
        content_hash=content_hash(content_dir),
    )
