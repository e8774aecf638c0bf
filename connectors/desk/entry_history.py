"""Every earlier version of every entry file, kept in the desk's database.

    history = EntryHistory(store.engine)
    history.record("tax-code", "it", before, after, editor="anna", action="edit")
    history.versions("tax-code", "it")       # newest first: who, when, what, diff
    history.latest("tax-code", "it")         # the change an undo takes back
    history.record(*municipality_key("torre-pellice"), before, after, "anna", "edit")

The files themselves stay in `knowledge/content/` (and in git); this table adds
who changed them from the authoring page, when, and the text before, so that
any change can be looked at and the last one undone. Editors are named by
their desk user name; migrants never appear here.

A row names one file by (entry_id, language). The municipality file of the
local offices is kept the same way under ``municipality_key(town)``: an entry
id has only letters, digits and dashes, so "municipality:<town>" is never one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.desk.store import now
from knowledge.editing import diff

ACTIONS = ("edit", "review", "undo")
MUNICIPALITY = "municipality:"


def municipality_key(town: str) -> tuple[str, str]:
    """The (entry_id, language) under which a municipality file's versions are kept."""
    return f"{MUNICIPALITY}{town}", "yml"


def file_name(entry_id: str, language: str) -> str:
    """The file a history row is about, as the diff names it."""
    if entry_id.startswith(MUNICIPALITY):
        return f"municipalities/{entry_id.removeprefix(MUNICIPALITY)}.{language}"
    return f"{entry_id}/{language}.md"


metadata = sa.MetaData()

entry_versions = sa.Table(
    "entry_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("entry_id", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("saved_at", sa.DateTime, nullable=False),
    sa.Column("editor", sa.String(64), nullable=False),  # the desk user name
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("before", sa.Text, nullable=False),
    sa.Column("after", sa.Text, nullable=False),
    sa.Column("diff", sa.Text, nullable=False),
    sa.Index("entry_versions_entry", "entry_id", "language", "id"),
)


@dataclass(frozen=True)
class Version:
    id: int
    entry_id: str
    language: str
    saved_at: datetime
    editor: str
    action: str
    before: str
    after: str
    diff: str


class CannotUndo(ValueError):
    """Nothing to undo, or the file changed elsewhere since; the message says which."""


class EntryHistory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def record(
        self, entry_id: str, language: str, before: str, after: str, editor: str, action: str
    ) -> Version:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        row = {
            "entry_id": entry_id,
            "language": language,
            "saved_at": now(),
            "editor": editor,
            "action": action,
            "before": before,
            "after": after,
            "diff": diff(before, after, file_name(entry_id, language)),
        }
        with self.engine.begin() as db:
            new_id = db.execute(entry_versions.insert().values(**row)).inserted_primary_key[0]
        return Version(id=new_id, **row)

    def versions(self, entry_id: str, language: str, limit: int = 50) -> list[Version]:
        """Newest first."""
        query = (
            sa.select(entry_versions)
            .where(entry_versions.c.entry_id == entry_id, entry_versions.c.language == language)
            .order_by(entry_versions.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [Version(**row._mapping) for row in db.execute(query)]

    def latest(self, entry_id: str, language: str) -> Version | None:
        found = self.versions(entry_id, language, limit=1)
        return found[0] if found else None

    def undo_target(self, entry_id: str, language: str, current: str) -> Version:
        """The change an undo takes back (its `before` is the text to restore).

        An undo is a change too, so undoing twice puts the text back.
        """
        latest = self.latest(entry_id, language)
        if latest is None:
            raise CannotUndo("There is no change to undo.")
        if latest.after != current:
            raise CannotUndo(
                "Not undone: the file was changed outside this page since the last change here."
            )
        return latest
