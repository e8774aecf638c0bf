"""Change one office of the municipality file from a form: check it, write it, preview it.

    text = read_text(content_dir, "torre-pellice")
    after = set_office(text, "help_desk", {"name": ..., "hours": "lun 9-12", ...})
    findings = check_text(settings, after)          # the content lint's municipality checks
    write_text(content_dir, "torre-pellice", after)
    preview(settings, after, "help_desk")           # one answer that names the office

Only the lines of the edited office change, so the file keeps its comments and
its layout, and the diff in the history shows just what was changed. The
file's other keys (``example``, ``last_reviewed``, ...) are never touched: a
sample file stays marked as sample data until someone removes the mark in git.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.entries import ContentError, entry_paths, load_municipality, read_entry, unwrap
from knowledge.lint import OFFICE_FIELDS, Finding, _check_municipality
from knowledge.settings import Settings

_TOWN = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")
_KEY = re.compile(r"[a-z0-9_]{1,64}")


class OfficeError(ValueError):
    """The form cannot become an office; the message says why in plain words."""


def municipality_path(content_dir: Path, name: str) -> Path:
    if not _TOWN.fullmatch(name):
        raise OfficeError("A municipality name has only lowercase letters, digits and dashes.")
    return Path(content_dir) / "municipalities" / f"{name}.yml"


def read_text(content_dir: Path, name: str) -> str:
    path = municipality_path(content_dir, name)
    if not path.is_file():
        raise OfficeError(f"There is no municipality file '{name}'.")
    return path.read_text(encoding="utf-8")


def is_example(text: str) -> bool:
    """The file says it is sample data (`example: true`): every detail must still be checked."""
    raw = yaml.safe_load(text) or {}
    return isinstance(raw, dict) and bool(raw.get("example"))


def offices_of(text: str) -> dict[str, dict[str, str]]:
    """Every office of the file with every field of the schema (empty when not written)."""
    raw = yaml.safe_load(text) or {}
    offices = raw.get("offices") if isinstance(raw, dict) else None
    return {
        str(key): {
            name: "" if (office or {}).get(name) is None else str(office[name])
            for name in OFFICE_FIELDS
        }
        for key, office in (offices or {}).items()
        if isinstance(office, dict)
    }


def set_office(text: str, key: str, form: dict[str, str]) -> str:
    """The file with office `key`'s fields as in the form (empty optional fields left out)."""
    if not _KEY.fullmatch(key) or key not in offices_of(text):
        raise OfficeError(f"There is no office '{key}' in the municipality file.")
    if any("\x00" in str(value) for value in form.values()):
        raise OfficeError("The form contains binary data: paste plain text.")
    fields = {
        name: " ".join(str(form.get(name) or "").split())  # one line, single spaces
        for name in OFFICE_FIELDS
    }
    fields = {name: value for name, value in fields.items() if value or name == "name"}
    expected = yaml.safe_load(text)
    expected["offices"][key] = fields
    edited = _replace_block(text, key, fields)
    if edited is not None and yaml.safe_load(edited) == expected:
        return edited
    # A file laid out by hand in another way: write it again as a whole, comments first.
    comments = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    dumped = yaml.safe_dump(expected, sort_keys=False, allow_unicode=True, width=1000)
    return comments + dumped


def _replace_block(text: str, key: str, fields: dict[str, str]) -> str | None:
    """Replace the lines of office `key` (two-space key, four-space fields), or None."""
    lines = text.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip() == f"  {key}:")
    except StopIteration:
        return None
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    block = [f"    {name}: {_scalar(name, value)}\n" for name, value in fields.items()]
    return "".join(lines[: start + 1] + block + lines[end:])


def _scalar(name: str, value: str) -> str:
    """A YAML value: plain when it reads back the same, else double-quoted (phones always)."""
    if name != "phone" and value and yaml.safe_load(f"k: {value}") == {"k": value}:
        return value
    return json.dumps(value, ensure_ascii=False)


def check_text(settings: Settings, text: str) -> list[Finding]:
    """What `make lint-content` would say about the municipality file if it were saved."""
    content = settings.content
    findings: list[Finding] = []

    def add(severity: str, _path: object, message: str, check: str) -> None:
        findings.append(
            Finding(severity, f"municipalities/{content.municipality}.yml", message, check)
        )

    with tempfile.TemporaryDirectory() as scratch:
        draft = municipality_path(Path(scratch), content.municipality)
        draft.parent.mkdir(parents=True)
        draft.write_text(text, encoding="utf-8")
        _check_municipality([], Path(scratch), content.municipality, add)
    # The page says once that the file is sample data; the list keeps to this change.
    return [f for f in findings if "example: true" not in f.message]


def write_text(content_dir: Path, name: str, text: str) -> Path:
    """Write the file in one step (a crash never leaves half a file)."""
    path = municipality_path(content_dir, name)
    temporary = path.with_suffix(".yml.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


@dataclass(frozen=True)
class Preview:
    entry_id: str
    language: str
    title: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {
            "entry_id": self.entry_id,
            "language": self.language,
            "title": self.title,
            "text": self.text,
        }


def preview(settings: Settings, text: str, key: str, language: str = "it") -> Preview | None:
    """One answer that names office `key`, filled in from `text` (the edited file)."""
    placeholder = re.compile(r"\{\{\s*office:" + re.escape(key) + r"\s*\}\}")
    found = []
    for path in entry_paths(settings.content.dir):
        body = path.read_text(encoding="utf-8")
        if placeholder.search(body):
            found.append(path)
    if not found:
        return None
    path = next((p for p in found if p.stem == language), found[0])
    try:
        entry = read_entry(path)
    except ContentError:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        draft = municipality_path(Path(scratch), settings.content.municipality)
        draft.parent.mkdir(parents=True)
        draft.write_text(text, encoding="utf-8")
        town = load_municipality(Path(scratch), settings.content.municipality)
    return Preview(entry.id, entry.language, entry.title, unwrap(town.render(entry.body)))
