"""The desk's database: hand-offs, their messages, desk users and sessions, feedback, figures.

    store = Store.open("sqlite:///data/desk.db")   # or postgresql+psycopg://...
    handoff = store.open_handoff(sender_id="abc", channel="socketio", language="ar", ...)
    store.claim(handoff.id, mediator_id)           # True for exactly one mediator

SQLAlchemy Core over SQLite by default, PostgreSQL for larger deployments. Each
public method is one transaction; call them from a thread (``asyncio.to_thread``)
in async code. Question texts are stored redacted (``core.redact``).
``forget(sender_id)`` deletes one person's hand-offs, messages, files, notes and questions
(``connectors.privacy`` does the same in Rasa's tables).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.redact import redact

OPEN_STATES = ("waiting", "claimed")
ROLES = ("mediator", "operator", "editor", "admin")
# More urgent hand-offs than this within FLOOD_MINUTES look like a flood
# (one person changing sender ids): the queue groups and flags them.
FLOOD_COUNT = 5
FLOOD_MINUTES = 2
PREVIEW_LINES = 3
PREVIEW_CHARS = 200

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), unique=True, nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    # Languages the person speaks, e.g. "ar fr it"; the first is the one they read best.
    sa.Column("languages", sa.String(128), nullable=False, default="it"),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    # SHA-256 of the cookie value: a stolen database holds no usable session.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

# The language of the staff pages each user chose ("it" or "en"; no row: Italian).
# A table of its own, so that existing databases gain it with create_all.
page_languages = sa.Table(
    "page_languages",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("chosen_at", sa.DateTime, nullable=False),
)

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    # Rasa input channel (socketio, rest, telegram, ...) or "counter" for an operator.
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("topic", sa.String(64)),
    # request | unsure | emergency | operator
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    # waiting | claimed | closed
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("claimed_at", sa.DateTime),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("mediator_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("opened_by", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("note", sa.Text),
    # Closed hand-offs are handed back to the bot once Rasa has accepted it.
    sa.Column("handed_back", sa.Boolean, nullable=False, default=False),
    sa.Column("rating", sa.Integer),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), index=True),
    # migrant | bot | mediator | desk (a transfer or release, for mediators only)
    sa.Column("author", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("language", sa.String(8)),
    # The text as the migrant sees it, when a mediator's reply was machine-translated.
    sa.Column("translated_text", sa.Text),
    sa.Column("translated_language", sa.String(8)),
    sa.Column("mediator_id", sa.Integer, sa.ForeignKey("users.id")),
    # Mediator replies: pending until the channel accepted them, then delivered.
    sa.Column("delivery", sa.String(16)),
    sa.Column("delivery_error", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

questions = sa.Table(
    "questions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("asked_at", sa.DateTime, nullable=False, index=True),
    # conversation | counter
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("topic", sa.String(64)),
    sa.Column("entry_id", sa.String(64)),
    sa.Column("confident", sa.Boolean, nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("text", sa.Text, nullable=False),  # redacted
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("given_at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("entry_id", sa.String(64), nullable=False),
    sa.Column("topic", sa.String(64)),
    sa.Column("language", sa.String(8)),
    sa.Column("useful", sa.Boolean, nullable=False),
    sa.Column("question", sa.Text, nullable=False),  # redacted
)

# "Not useful" pressed (or said) in the chat on an answer: a table of its own,
# so that existing databases get it from create_all. About the person, so
# "forget me", retention and "don't keep" delete it (``forget``).
answer_feedback = sa.Table(
    "answer_feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("given_at", sa.DateTime, nullable=False),
    sa.Column("entry_id", sa.String(64), nullable=False, index=True),
    sa.Column("language", sa.String(8)),
    sa.Column("question", sa.Text, nullable=False),  # redacted
)

# People who asked to be forgotten: the web app deletes their conversation
# again until Rasa has written the last of that turn (connectors.privacy).
forget_requests = sa.Table(
    "forget_requests",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("requested_at", sa.DateTime, nullable=False),
)

# Who opened which hand-off's transcript, and when (admins read this record).
transcript_views = sa.Table(
    "transcript_views",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
    sa.Column("handoff_id", sa.Integer, nullable=False, index=True),
    sa.Column("viewed_at", sa.DateTime, nullable=False),
)

# How far the person has read a mediator's replies: message ids up to `up_to`
# were on their screen (the widget says so). A table of its own, so that
# existing databases get it from create_all.
replies_seen = sa.Table(
    "replies_seen",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("up_to", sa.Integer, nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
)

# Mediators' private notes on a hand-off: shown to whoever may read its transcript
# (its mediator, admins), never sent to the person. About the person, so "forget
# me" and retention delete them with the hand-off (``forget``).
handoff_notes = sa.Table(
    "handoff_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), index=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# A photo or PDF the person sent during a hand-off (connectors/desk/attachments.py):
# the bytes in the database, so that "forget me", retention and a shared
# PostgreSQL store treat them as the rest of the conversation. `message_id` is
# the transcript line that shows it.
attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), index=True),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), index=True),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Mediators' ready answers, one language each ("Bring your passport and the
# ricevuta to the Questura on Monday..."). About no person: "forget me" and
# retention leave them.
saved_replies = sa.Table(
    "saved_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("language", sa.String(8), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
)

# Where the desk stands in Rasa's events: after row `row_id` of transaction
# `tx` (connectors.handoff.Position). Replaces `cursors`, read once if alone.
positions = sa.Table(
    "stream_positions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("tx", sa.BigInteger, nullable=False),
    sa.Column("row_id", sa.BigInteger, nullable=False),
)


class CursorMoved(RuntimeError):
    """Another web app moved the position first: this batch is theirs (rolled back)."""


def now() -> datetime:
    """UTC without tzinfo: SQLite stores naive datetimes, PostgreSQL 'timestamp'."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    languages: tuple[str, ...]
    # The language of the staff pages the user chose; None: not chosen yet.
    page_language: str | None = None

    @property
    def language(self) -> str:
        return self.languages[0] if self.languages else "it"

    def may(self, role: str) -> bool:
        """Admins may do everything; mediators and operators their own work."""
        return self.role == "admin" or self.role == role


def _user(row: Any) -> User:
    return User(
        row.id,
        row.username,
        row.role,
        tuple(row.languages.split()),
        row._mapping.get("page_language"),
    )


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat() if value else None


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect and create missing tables."""
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            database = sa.engine.make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Several threads and processes (desk, action server) share the file.
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = sa.create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        metadata.create_all(engine)
        return cls(engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # -- users and sessions ------------------------------------------------

    def add_user(self, username: str, password_hash: str, role: str, languages: str) -> User:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        with self.transaction() as db:
            user_id = db.execute(
                users.insert().values(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    languages=" ".join(languages.replace(",", " ").split()) or "it",
                    created_at=now(),
                )
            ).inserted_primary_key[0]
        return self.user(user_id)

    def set_password(self, username: str, password_hash: str) -> bool:
        with self.transaction() as db:
            changed = db.execute(
                users.update()
                .where(users.c.username == username)
                .values(password_hash=password_hash)
            ).rowcount
            # A new password ends every session of the old one.
            db.execute(
                sessions.delete().where(
                    sessions.c.user_id.in_(
                        sa.select(users.c.id).where(users.c.username == username)
                    )
                )
            )
        return changed == 1

    def replace_hash(self, user_id: int, old: str, new: str) -> None:
        """A stronger hash of the same password; not if the password changed meanwhile."""
        with self.transaction() as db:
            db.execute(
                users.update()
                .where(users.c.id == user_id, users.c.password_hash == old)
                .values(password_hash=new)
            )

    def user(self, user_id: int) -> User | None:
        with self.engine.connect() as db:
            row = db.execute(users.select().where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def credentials(self, username: str) -> tuple[User, str] | None:
        with self.engine.connect() as db:
            row = db.execute(users.select().where(users.c.username == username)).first()
        return (_user(row), row.password_hash) if row else None

    def list_users(self) -> list[User]:
        with self.engine.connect() as db:
            return [_user(row) for row in db.execute(users.select().order_by(users.c.username))]

    def add_session(self, token_hash: str, user_id: int, csrf: str, hours: int) -> None:
        with self.transaction() as db:
            db.execute(sessions.delete().where(sessions.c.expires_at < now()))
            db.execute(
                sessions.insert().values(
                    token_hash=token_hash,
                    user_id=user_id,
                    csrf_token=csrf,
                    expires_at=now() + timedelta(hours=hours),
                )
            )

    def session(self, token_hash: str) -> tuple[User, str] | None:
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(
                    users, sessions.c.csrf_token, page_languages.c.language.label("page_language")
                )
                .join(sessions, sessions.c.user_id == users.c.id)
                .outerjoin(page_languages, page_languages.c.user_id == users.c.id)
                .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now())
            ).first()
        return (_user(row), row.csrf_token) if row else None

    def set_page_language(self, user_id: int, language: str) -> None:
        """Keep the language `user_id` reads the staff pages in."""
        with self.transaction() as db:
            db.execute(page_languages.delete().where(page_languages.c.user_id == user_id))
            db.execute(
                page_languages.insert().values(user_id=user_id, language=language, chosen_at=now())
            )

    def page_language(self, user_id: int) -> str | None:
        with self.engine.connect() as db:
            return db.execute(
                sa.select(page_languages.c.language).where(page_languages.c.user_id == user_id)
            ).scalar()

    def end_session(self, token_hash: str) -> None:
        with self.transaction() as db:
            db.execute(sessions.delete().where(sessions.c.token_hash == token_hash))

    # -- hand-offs -----------------------------------------------------------

    def open_handoff(
        self,
        db: Connection,
        *,
        sender_id: str,
        channel: str,
        language: str,
        topic: str | None,
        reason: str,
        urgent: bool = False,
        opened_by: int | None = None,
        at: datetime | None = None,
    ) -> int:
        """Open a hand-off, or return the one already open for this person."""
        existing = db.execute(
            sa.select(handoffs.c.id).where(
                handoffs.c.sender_id == sender_id, handoffs.c.status.in_(OPEN_STATES)
            )
        ).scalar()
        if existing:
            if urgent:
                db.execute(handoffs.update().where(handoffs.c.id == existing).values(urgent=True))
            return existing
        return db.execute(
            handoffs.insert().values(
                sender_id=sender_id,
                channel=channel,
                language=language,
                topic=topic,
                reason=reason,
                urgent=urgent,
                status="waiting",
                created_at=at or now(),
                opened_by=opened_by,
            )
        ).inserted_primary_key[0]

    def open_handoff_for(self, db: Connection, sender_id: str) -> int | None:
        return db.execute(
            sa.select(handoffs.c.id).where(
                handoffs.c.sender_id == sender_id, handoffs.c.status.in_(OPEN_STATES)
            )
        ).scalar()

    def claims_since(self, sender_id: str, since: float) -> list[dict]:
        """The person's hand-offs a mediator claimed after Unix time `since`, oldest first."""
        after = datetime.fromtimestamp(since, UTC).replace(tzinfo=None)
        with self.engine.connect() as db:
            rows = db.execute(
                self._handoff_query()
                .where(
                    handoffs.c.sender_id == sender_id,
                    handoffs.c.claimed_at.is_not(None),
                    handoffs.c.claimed_at > after,
                    handoffs.c.mediator_id.is_not(None),
                )
                .order_by(handoffs.c.claimed_at)
            ).all()
        return [self._handoff(row) for row in rows]

    def claimed_handoff_for(self, sender_id: str) -> dict | None:
        """The person's hand-off a mediator holds now, or None."""
        with self.engine.connect() as db:
            row = db.execute(
                self._handoff_query().where(
                    handoffs.c.sender_id == sender_id, handoffs.c.status == "claimed"
                )
            ).first()
        return self._handoff(row) if row else None

    def has_open_handoff(self, sender_id: str) -> bool:
        """Whether the person has a hand-off waiting or claimed (they may send a file)."""
        with self.engine.connect() as db:
            return self.open_handoff_for(db, sender_id) is not None

    def waiting_position(self, sender_id: str) -> int | None:
        """Where the person's waiting hand-off stands in the queue (1: next); None when
        a mediator has it or none is open. Queue order: urgent first, then the oldest."""
        with self.engine.connect() as db:
            mine = db.execute(
                sa.select(handoffs.c.urgent, handoffs.c.created_at).where(
                    handoffs.c.sender_id == sender_id, handoffs.c.status == "waiting"
                )
            ).first()
            if mine is None:
                return None
            older = handoffs.c.created_at < mine.created_at
            urgent = handoffs.c.urgent.is_(True)
            ahead = (urgent & older) if mine.urgent else (urgent | older)
            count = db.execute(
                sa.select(sa.func.count())
                .select_from(handoffs)
                .where(handoffs.c.status == "waiting", ahead)
            ).scalar()
        return int(count or 0) + 1

    def flag_urgent(self, handoff_id: int) -> bool:
        """Move an open hand-off to the top of the queue; False if it already was there."""
        with self.transaction() as db:
            changed = db.execute(
                handoffs.update()
                .where(
                    handoffs.c.id == handoff_id,
                    handoffs.c.status.in_(OPEN_STATES),
                    handoffs.c.urgent.is_(False),
                )
                .values(urgent=True)
            ).rowcount
        return changed == 1

    def claim(self, handoff_id: int, mediator_id: int) -> bool:
        """Give a waiting hand-off to one mediator. Exactly one of two racing claims wins."""
        with self.transaction() as db:
            won = db.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, handoffs.c.status == "waiting")
                .values(status="claimed", mediator_id=mediator_id, claimed_at=now())
            ).rowcount
        return won == 1

    def close(self, handoff_id: int, mediator_id: int, note: str) -> bool:
        with self.transaction() as db:
            done = db.execute(
                handoffs.update()
                .where(
                    handoffs.c.id == handoff_id,
                    handoffs.c.status == "claimed",
                    handoffs.c.mediator_id == mediator_id,
                )
                .values(status="closed", closed_at=now(), note=note)
            ).rowcount
        return done == 1

    def release(self, handoff_id: int, holder_id: int, by: User) -> bool:
        """Put a claimed hand-off back in the queue, waiting for any mediator; the
        transcript records who did. False unless `holder_id` still holds it."""
        with self.transaction() as db:
            row = self._held(db, handoff_id, holder_id)
            if row is None or not self._hand_on(
                db, handoff_id, holder_id, status="waiting", mediator_id=None, claimed_at=None
            ):
                return False
            self._record(db, row, by, f"Put back in the queue by {by.username}.")
        return True

    def transfer(self, handoff_id: int, holder_id: int, to: User, by: User) -> bool:
        """Give a claimed hand-off to another mediator: it is in their queue as theirs,
        also while they are logged out; the transcript records it."""
        with self.transaction() as db:
            row = self._held(db, handoff_id, holder_id)
            if row is None or not self._hand_on(
                db, handoff_id, holder_id, mediator_id=to.id, claimed_at=now()
            ):
                return False
            holder = db.execute(sa.select(users.c.username).where(users.c.id == holder_id))
            text = f"Transferred from {holder.scalar()} to {to.username}"
            self._record(db, row, by, text + ("." if by.id == holder_id else f" by {by.username}."))
        return True

    @staticmethod
    def _held(db: Connection, handoff_id: int, holder_id: int) -> Any:
        """The hand-off if `holder_id` holds it."""
        return db.execute(
            sa.select(handoffs.c.id, handoffs.c.sender_id).where(
                handoffs.c.id == handoff_id,
                handoffs.c.status == "claimed",
                handoffs.c.mediator_id == holder_id,
            )
        ).first()

    @staticmethod
    def _hand_on(db: Connection, handoff_id: int, holder_id: int, **values: Any) -> bool:
        """Change a hand-off only while `holder_id` still holds it (as ``claim`` does)."""
        return (
            db.execute(
                handoffs.update()
                .where(
                    handoffs.c.id == handoff_id,
                    handoffs.c.status == "claimed",
                    handoffs.c.mediator_id == holder_id,
                )
                .values(**values)
            ).rowcount
            == 1
        )

    def _record(self, db: Connection, handoff: Any, by: User, text: str) -> None:
        """A line of the desk's in the transcript (author "desk"): never sent to the person."""
        self.add_message(
            db,
            sender_id=handoff.sender_id,
            handoff_id=handoff.id,
            author="desk",
            mediator_id=by.id,
            text=text,
        )

    def colleagues(self, language: str, besides: int | None) -> list[str]:
        """Mediators a hand-off in `language` may be transferred to (see ``works_in``)."""
        spoken = self.mediators_speak()
        with self.engine.connect() as db:
            rows = db.execute(
                users.select().where(users.c.role == "mediator").order_by(users.c.username)
            )
            found = [_user(row) for row in rows]
        return [
            u.username
            for u in found
            if u.id != besides and (language in u.languages or language not in spoken)
        ]

    def mark_handed_back(self, handoff_id: int) -> None:
        with self.transaction() as db:
            db.execute(
                handoffs.update().where(handoffs.c.id == handoff_id).values(handed_back=True)
            )

    def pending_hand_backs(self) -> list[dict]:
        """Closed conversations the bot has not taken back yet (Rasa was down, say)."""
        with self.engine.connect() as db:
            rows = db.execute(
                handoffs.select().where(
                    handoffs.c.status == "closed",
                    handoffs.c.handed_back.is_(False),
                    handoffs.c.channel != "counter",
                )
            )
            return [self._handoff(row) for row in rows]

    def rate_latest(self, db: Connection, sender_id: str, rating: int) -> None:
        """Store a 1-10 satisfaction rating on the person's last closed hand-off."""
        latest = db.execute(
            sa.select(handoffs.c.id)
            .where(handoffs.c.sender_id == sender_id, handoffs.c.status == "closed")
            .order_by(handoffs.c.closed_at.desc())
            .limit(1)
        ).scalar()
        if latest:
            db.execute(handoffs.update().where(handoffs.c.id == latest).values(rating=rating))

    def handoff(self, handoff_id: int) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(self._handoff_query().where(handoffs.c.id == handoff_id)).first()
        return self._handoff(row) if row else None

    def mediators_speak(self) -> set[str]:
        """Every language some mediator works in."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(users.c.languages).where(users.c.role == "mediator"))
            return {code for (languages,) in rows for code in languages.split()}

    def works_in(self, language: str, languages: tuple[str, ...] | None) -> bool:
        """A hand-off in `language` is for a mediator speaking `languages` (None: an
        admin, all): theirs, or one no mediator speaks, so that none is left unseen."""
        return languages is None or language in languages or language not in self.mediators_speak()

    def queue(self, languages: tuple[str, ...] | None = None) -> list[dict]:
        """Open hand-offs (for a mediator speaking `languages`, see ``works_in``):
        urgent first, then the longest waiting. Urgent ones that came in a burst
        (see ``flag_floods``) follow the other urgent ones, each with a ``flood`` note."""
        query = (
            self._handoff_query()
            .where(handoffs.c.status.in_(OPEN_STATES))
            .order_by(handoffs.c.urgent.desc(), handoffs.c.created_at)
        )
        if languages is not None:
            spoken = self.mediators_speak()
            query = query.where(
                handoffs.c.language.in_(languages) | handoffs.c.language.not_in(spoken)
            )
        with self.engine.connect() as db:
            found = [self._handoff(row) for row in db.execute(query)]
        return flag_floods(found)

    def closed(
        self,
        mediator_id: int | None,
        language: str | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
        limit: int = 100,
    ) -> list[dict]:
        """Closed hand-offs, newest first: those `mediator_id` held when they were
        closed (None: everyone's, for admins), in `language`, closed in [since, before).
        What retention or "forget me" deleted is gone from here too."""
        query = (
            self._handoff_query()
            .where(handoffs.c.status == "closed")
            .order_by(handoffs.c.closed_at.desc(), handoffs.c.id.desc())
            .limit(limit)
        )
        if mediator_id is not None:
            query = query.where(handoffs.c.mediator_id == mediator_id)
        if language:
            query = query.where(handoffs.c.language == language)
        if since is not None:
            query = query.where(handoffs.c.closed_at >= since)
        if before is not None:
            query = query.where(handoffs.c.closed_at < before)
        with self.engine.connect() as db:
            return [self._handoff(row) for row in db.execute(query)]

    def handoffs_opened_by(self, user_id: int, limit: int = 10) -> list[dict]:
        with self.engine.connect() as db:
            rows = db.execute(
                self._handoff_query()
                .where(handoffs.c.opened_by == user_id)
                .order_by(handoffs.c.created_at.desc())
                .limit(limit)
            )
            return [self._handoff(row) for row in rows]

    def expected_wait_minutes(self, default: int) -> int:
        """Median wait of the last 20 claims, times the people already waiting."""
        with self.engine.connect() as db:
            recent = db.execute(
                sa.select(handoffs.c.created_at, handoffs.c.claimed_at)
                .where(handoffs.c.claimed_at.is_not(None))
                .order_by(handoffs.c.claimed_at.desc())
                .limit(20)
            ).all()
            waiting = db.execute(
                sa.select(sa.func.count())
                .select_from(handoffs)
                .where(handoffs.c.status == "waiting")
            ).scalar_one()
        per_person = (
            statistics.median((c - o).total_seconds() / 60 for o, c in recent)
            if len(recent) >= 3
            else default
        )
        return max(1, round(per_person * max(1, waiting)))

    @staticmethod
    def _handoff_query() -> sa.Select:
        mediator = users.alias("mediator")
        return sa.select(handoffs, mediator.c.username.label("mediator_name")).outerjoin(
            mediator, mediator.c.id == handoffs.c.mediator_id
        )

    @staticmethod
    def _handoff(row: Any) -> dict:
        data = dict(row._mapping)
        for key in ("created_at", "claimed_at", "closed_at"):
            data[key] = _iso(data[key])
        return data

    # -- messages --------------------------------------------------------------

    def add_message(self, db: Connection, **fields: Any) -> int:
        fields.setdefault("created_at", now())
        return db.execute(messages.insert().values(**fields)).inserted_primary_key[0]

    def add_mediator_reply(self, handoff: dict, mediator_id: int, **fields: Any) -> int:
        with self.transaction() as db:
            return self.add_message(
                db,
                sender_id=handoff["sender_id"],
                handoff_id=handoff["id"],
                author="mediator",
                mediator_id=mediator_id,
                delivery="delivered" if handoff["channel"] == "counter" else "pending",
                **fields,
            )

    def handoff_transcript(self, handoff_id: int, limit: int = 200) -> list[dict]:
        """The messages of one hand-off only: never the rest of the person's history."""
        with self.engine.connect() as db:
            rows = db.execute(
                messages.select()
                .where(messages.c.handoff_id == handoff_id)
                .order_by(messages.c.id.desc())
                .limit(limit)
            ).all()
            seen = (
                db.execute(
                    sa.select(replies_seen.c.up_to).where(
                        replies_seen.c.sender_id == rows[0].sender_id
                    )
                ).scalar()
                if rows
                else None
            ) or 0
        # `seen`: a mediator's reply the person had on screen (None for other messages).
        return [
            {
                **dict(row._mapping),
                "created_at": _iso(row.created_at),
                "seen": row.id <= seen if row.author == "mediator" else None,
            }
            for row in reversed(rows)
        ]

    def mediator_replies(self, sender_id: str, after: int = 0, limit: int = 100) -> list[dict]:
        """A person's mediator replies with an id above `after`, oldest first, as
        their channel shows them (`for_person` in connector.py reads the same fields)."""
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(messages, users.c.username.label("mediator_name"))
                .outerjoin(users, users.c.id == messages.c.mediator_id)
                .where(
                    messages.c.sender_id == sender_id,
                    messages.c.author == "mediator",
                    messages.c.id > after,
                )
                .order_by(messages.c.id)
                .limit(limit)
            ).all()
        return [{**dict(row._mapping), "created_at": _iso(row.created_at)} for row in rows]

    def mark_seen(self, sender_id: str, up_to: int) -> list[int]:
        """The person saw their replies up to message `up_to`; the hand-offs that changed."""
        with self.transaction() as db:
            before = db.execute(
                sa.select(replies_seen.c.up_to).where(replies_seen.c.sender_id == sender_id)
            ).scalar()
            # Only the person's own replies count, and the mark never moves back.
            newest = db.execute(
                sa.select(sa.func.max(messages.c.id)).where(
                    messages.c.sender_id == sender_id,
                    messages.c.author == "mediator",
                    messages.c.id <= up_to,
                )
            ).scalar()
            if newest is None or (before is not None and newest <= before):
                return []
            if before is None:
                db.execute(
                    replies_seen.insert().values(sender_id=sender_id, up_to=newest, seen_at=now())
                )
            else:
                db.execute(
                    replies_seen.update()
                    .where(replies_seen.c.sender_id == sender_id)
                    .values(up_to=newest, seen_at=now())
                )
            return list(
                db.execute(
                    sa.select(messages.c.handoff_id)
                    .where(
                        messages.c.sender_id == sender_id,
                        messages.c.author == "mediator",
                        messages.c.id > (before or 0),
                        messages.c.id <= newest,
                    )
                    .distinct()
                ).scalars()
            )

    def seen_up_to(self, sender_id: str) -> int:
        with self.engine.connect() as db:
            return (
                db.execute(
                    sa.select(replies_seen.c.up_to).where(replies_seen.c.sender_id == sender_id)
                ).scalar()
                or 0
            )

    def preview(self, handoff_id: int) -> list[str]:
        """The person's first lines in a hand-off, redacted and cut short, for the queue."""
        with self.engine.connect() as db:
            texts = db.execute(
                sa.select(messages.c.text)
                .where(messages.c.handoff_id == handoff_id, messages.c.author == "migrant")
                .order_by(messages.c.id)
                .limit(PREVIEW_LINES)
            ).scalars()
            return [_shorten(redact(text), PREVIEW_CHARS) for text in texts]

    def previews(self, handoff_ids: list[int]) -> dict[int, list[str]]:
        """``preview`` of many hand-offs at once (the queue's), in one query per 500."""
        found: dict[int, list[str]] = {handoff_id: [] for handoff_id in handoff_ids}
        with self.engine.connect() as db:
            for start in range(0, len(handoff_ids), 500):
                rows = db.execute(
                    sa.select(messages.c.handoff_id, messages.c.text)
                    .where(
                        messages.c.handoff_id.in_(handoff_ids[start : start + 500]),
                        messages.c.author == "migrant",
                    )
                    .order_by(messages.c.id)
                )
                for handoff_id, text in rows:
                    lines = found[handoff_id]
                    if len(lines) < PREVIEW_LINES:
                        lines.append(_shorten(redact(text), PREVIEW_CHARS))
        return found

    def add_note(self, handoff_id: int, author_id: int, text: str) -> int | None:
        """A private note on a hand-off; None when there is no such hand-off."""
        with self.transaction() as db:
            sender = db.execute(
                sa.select(handoffs.c.sender_id).where(handoffs.c.id == handoff_id)
            ).scalar()
            if sender is None:
                return None
            return db.execute(
                handoff_notes.insert().values(
                    sender_id=sender,
                    handoff_id=handoff_id,
                    author_id=author_id,
                    text=text,
                    created_at=now(),
                )
            ).inserted_primary_key[0]

    def notes(self, handoff_id: int) -> list[dict]:
        """A hand-off's private notes, oldest first, with their authors' names."""
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(
                    handoff_notes.c.id,
                    handoff_notes.c.text,
                    handoff_notes.c.created_at,
                    users.c.username.label("author_name"),
                )
                .outerjoin(users, users.c.id == handoff_notes.c.author_id)
                .where(handoff_notes.c.handoff_id == handoff_id)
                .order_by(handoff_notes.c.id)
            )
            return [{**dict(row._mapping), "created_at": _iso(row.created_at)} for row in rows]

    # -- attachments -----------------------------------------------------------------

    def add_attachment(
        self,
        sender_id: str,
        content_type: str,
        data: bytes,
        line: str,
        at: datetime | None = None,
    ) -> dict | None:
        """Keep a file in the person's open hand-off, with a transcript line `line`;
        None (nothing kept) when no hand-off is open."""
        at = at or now()
        with self.transaction() as db:
            handoff_id = self.open_handoff_for(db, sender_id)
            if handoff_id is None:
                return None
            message_id = self.add_message(
                db,
                sender_id=sender_id,
                handoff_id=handoff_id,
                author="migrant",
                text=line,
                created_at=at,
            )
            attachment_id = db.execute(
                attachments.insert().values(
                    sender_id=sender_id,
                    handoff_id=handoff_id,
                    message_id=message_id,
                    content_type=content_type,
                    size=len(data),
                    data=data,
                    created_at=at,
                )
            ).inserted_primary_key[0]
        return {"id": attachment_id, "handoff_id": handoff_id, "message_id": message_id}

    def attachment(self, attachment_id: int) -> dict | None:
        """One file with its bytes; for whoever may read its hand-off only."""
        with self.engine.connect() as db:
            row = db.execute(attachments.select().where(attachments.c.id == attachment_id)).first()
        return dict(row._mapping) if row else None

    def handoff_attachments(self, handoff_id: int) -> dict[int, dict]:
        """A hand-off's files without their bytes, by the transcript line showing each."""
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(
                    attachments.c.id,
                    attachments.c.message_id,
                    attachments.c.content_type,
                    attachments.c.size,
                ).where(attachments.c.handoff_id == handoff_id)
            )
            return {
                row.message_id: {"id": row.id, "content_type": row.content_type, "size": row.size}
                for row in rows
            }

    # -- saved replies -----------------------------------------------------------

    def saved_replies(self, language: str) -> list[dict]:
        """The saved replies in one language, oldest first, with their authors' names."""
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(
                    saved_replies.c.id,
                    saved_replies.c.language,
                    saved_replies.c.text,
                    saved_replies.c.updated_at,
                    users.c.username.label("author_name"),
                )
                .outerjoin(users, users.c.id == saved_replies.c.author_id)
                .where(saved_replies.c.language == language)
                .order_by(saved_replies.c.id)
            )
            return [{**dict(row._mapping), "updated_at": _iso(row.updated_at)} for row in rows]

    def saved_reply(self, reply_id: int) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(saved_replies.select().where(saved_replies.c.id == reply_id)).first()
        return dict(row._mapping) if row else None

    def count_saved_replies(self, language: str) -> int:
        with self.engine.connect() as db:
            return db.execute(
                sa.select(sa.func.count())
                .select_from(saved_replies)
                .where(saved_replies.c.language == language)
            ).scalar()

    def add_saved_reply(self, language: str, text: str, author_id: int) -> int:
        with self.transaction() as db:
            return db.execute(
                saved_replies.insert().values(
                    language=language,
                    text=text,
                    author_id=author_id,
                    created_at=now(),
                    updated_at=now(),
                )
            ).inserted_primary_key[0]

    def edit_saved_reply(self, reply_id: int, text: str) -> bool:
        with self.transaction() as db:
            return (
                db.execute(
                    saved_replies.update()
                    .where(saved_replies.c.id == reply_id)
                    .values(text=text, updated_at=now())
                ).rowcount
                == 1
            )

    def delete_saved_reply(self, reply_id: int) -> bool:
        with self.transaction() as db:
            return (
                db.execute(saved_replies.delete().where(saved_replies.c.id == reply_id)).rowcount
                == 1
            )

    def record_view(self, user_id: int, handoff_id: int) -> None:
        with self.transaction() as db:
            db.execute(
                transcript_views.insert().values(
                    user_id=user_id, handoff_id=handoff_id, viewed_at=now()
                )
            )

    def views(self, handoff_id: int | None = None, limit: int = 500) -> list[dict]:
        """The latest transcript views: who (username), which hand-off, when."""
        query = (
            sa.select(
                transcript_views.c.handoff_id,
                transcript_views.c.viewed_at,
                users.c.username,
                users.c.role,
            )
            .outerjoin(users, users.c.id == transcript_views.c.user_id)
            .order_by(transcript_views.c.id.desc())
            .limit(limit)
        )
        if handoff_id is not None:
            query = query.where(transcript_views.c.handoff_id == handoff_id)
        with self.engine.connect() as db:
            return [
                {**dict(row._mapping), "viewed_at": _iso(row.viewed_at)}
                for row in db.execute(query)
            ]

    def sender_of(self, handoff_id: int) -> str | None:
        """The conversation behind a hand-off: for `forget`, never for pages."""
        with self.engine.connect() as db:
            return db.execute(
                sa.select(handoffs.c.sender_id).where(handoffs.c.id == handoff_id)
            ).scalar()

    def transcript(self, sender_id: str, limit: int = 200) -> list[dict]:
        with self.engine.connect() as db:
            rows = db.execute(
                messages.select()
                .where(messages.c.sender_id == sender_id)
                .order_by(messages.c.id.desc())
                .limit(limit)
            ).all()
        return [
            {**dict(row._mapping), "created_at": _iso(row.created_at)} for row in reversed(rows)
        ]

    def pending_deliveries(self) -> list[dict]:
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(messages, handoffs.c.channel, users.c.username.label("mediator_name"))
                .join(handoffs, handoffs.c.id == messages.c.handoff_id)
                .outerjoin(users, users.c.id == messages.c.mediator_id)
                .where(messages.c.delivery == "pending")
                .order_by(messages.c.id)
            ).all()
        return [dict(row._mapping) for row in rows]

    def set_delivery(self, message_id: int, state: str, error: str | None = None) -> None:
        with self.transaction() as db:
            db.execute(
                messages.update()
                .where(messages.c.id == message_id)
                .values(delivery=state, delivery_error=error)
            )

    # -- questions and feedback ------------------------------------------------

    def add_question(self, db: Connection, *, text: str, **fields: Any) -> None:
        db.execute(questions.insert().values(text=redact(text), **fields))

    def add_feedback(self, *, question: str, **fields: Any) -> None:
        with self.transaction() as db:
            db.execute(
                feedback.insert().values(question=redact(question), given_at=now(), **fields)
            )

    def add_answer_feedback(self, db: Connection, *, question: str, **fields: Any) -> None:
        """A person's "not useful" on an answer in the chat."""
        db.execute(answer_feedback.insert().values(question=redact(question), **fields))

    # -- forgetting a person (connectors.privacy) ----------------------------------

    def forget(self, sender_id: str) -> dict[str, int]:
        """Delete everything kept about one person; rows deleted per table."""
        with self.transaction() as db:
            open_handoffs = self.open_handoff_for(db, sender_id)
            deleted = {
                table.name: db.execute(
                    table.delete().where(table.c.sender_id == sender_id)
                ).rowcount
                # Files before the messages, messages and notes before the
                # hand-offs they point to.
                for table in (
                    attachments,
                    messages,
                    handoff_notes,
                    questions,
                    answer_feedback,
                    handoffs,
                    replies_seen,
                )
            }
        deleted["open handoffs"] = 1 if open_handoffs else 0
        return deleted

    def forget_questions(self, db: Connection, sender_id: str) -> None:
        """Take a person's questions out of the figures."""
        db.execute(questions.delete().where(questions.c.sender_id == sender_id))
        db.execute(answer_feedback.delete().where(answer_feedback.c.sender_id == sender_id))

    def last_activity(self) -> dict[str, datetime]:
        """Each person's latest message, question or hand-off in this store."""
        latest: dict[str, datetime] = {}
        with self.engine.connect() as db:
            for column in (messages.c.created_at, questions.c.asked_at, handoffs.c.created_at):
                rows = db.execute(
                    sa.select(column.table.c.sender_id, sa.func.max(column)).group_by(
                        column.table.c.sender_id
                    )
                )
                for sender, at in rows:
                    if at and (sender not in latest or at > latest[sender]):
                        latest[sender] = at
        return latest

    def request_forget(self, sender_id: str) -> None:
        with self.transaction() as db:
            if not db.execute(
                forget_requests.update()
                .where(forget_requests.c.sender_id == sender_id)
                .values(requested_at=now())
            ).rowcount:
                db.execute(forget_requests.insert().values(sender_id=sender_id, requested_at=now()))

    def forget_requests(self) -> list[tuple[str, datetime]]:
        with self.engine.connect() as db:
            return [tuple(row) for row in db.execute(sa.select(forget_requests))]

    def drop_forget_request(self, sender_id: str, requested_at: datetime) -> None:
        """Done with a request, unless the person asked again meanwhile."""
        with self.transaction() as db:
            db.execute(
                forget_requests.delete().where(
                    forget_requests.c.sender_id == sender_id,
                    forget_requests.c.requested_at == requested_at,
                )
            )

    # -- the event cursor --------------------------------------------------------

    def cursor(self, name: str) -> tuple[int, int]:
        """(transaction, row id) where the reader `name` stands; (0, 0) at the start."""
        with self.engine.connect() as db:
            found = db.execute(
                sa.select(positions.c.tx, positions.c.row_id).where(positions.c.name == name)
            ).first()
            if found is not None:
                return found.tx, found.row_id
            legacy = db.execute(sa.select(cursors.c.position).where(cursors.c.name == name))
            return 0, legacy.scalar() or 0

    def move_cursor(
        self, db: Connection, name: str, start: tuple[int, int], end: tuple[int, int]
    ) -> None:
        """Move `name` from `start` to `end` in transaction `db`; ``CursorMoved``
        (and nothing of the batch kept) when it no longer stands at `start`."""
        moved = db.execute(
            positions.update()
            .where(
                positions.c.name == name,
                positions.c.tx == start[0],
                positions.c.row_id == start[1],
            )
            .values(tx=end[0], row_id=end[1])
        ).rowcount
        if moved:
            return
        if db.execute(sa.select(positions.c.name).where(positions.c.name == name)).first():
            raise CursorMoved(name)
        legacy = db.execute(sa.select(cursors.c.position).where(cursors.c.name == name))
        if start[1] != (legacy.scalar() or 0):
            raise CursorMoved(name)
        try:  # the first move; two at once: one of them fails here
            db.execute(positions.insert().values(name=name, tx=end[0], row_id=end[1]))
        except sa.exc.IntegrityError:
            raise CursorMoved(name) from None


def public(item: dict) -> dict:
    """A hand-off or message as desk pages get it: without the raw sender id."""
    return {key: value for key, value in item.items() if key != "sender_id"}


def flag_floods(queue: list[dict]) -> list[dict]:
    """Group urgent hand-offs that arrived in a burst, and flag them.

    More than FLOOD_COUNT urgent hand-offs within FLOOD_MINUTES of each other
    get ``flood = {"count", "minutes", "text"}`` and move behind the other
    urgent ones, so a flood of fake emergencies does not bury a real one.
    The order is otherwise kept; nothing is dropped.
    """
    urgent = [h for h in queue if h["urgent"]]
    times = [datetime.fromisoformat(h["created_at"]) for h in urgent]
    window = timedelta(minutes=FLOOD_MINUTES)
    in_burst = [False] * len(urgent)
    end = 0
    for start in range(len(urgent)):
        end = max(end, start)
        while end + 1 < len(urgent) and times[end + 1] - times[start] <= window:
            end += 1
        if end - start + 1 > FLOOD_COUNT:
            for i in range(start, end + 1):
                in_burst[i] = True
    groups: list[list[int]] = []
    for i, flagged in enumerate(in_burst):
        if not flagged:
            continue
        if groups and groups[-1][-1] == i - 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    for group in groups:
        span = times[group[-1]] - times[group[0]]
        minutes = max(1, -(-int(span.total_seconds()) // 60))
        note = {
            "count": len(group),
            "minutes": minutes,
            "text": f"possible flood: {len(group)} urgent requests in {minutes} "
            + ("minute" if minutes == 1 else "minutes"),
        }
        for i in group:
            urgent[i]["flood"] = note
    for item in queue:
        item.setdefault("flood", None)
    # Urgent and not in a flood, then the flagged groups, then everything else.
    return sorted(queue, key=lambda h: (not h["urgent"], h["urgent"] and h["flood"] is not None))


def _shorten(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL: the desk reads while the hub writes; foreign keys as in PostgreSQL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
