"""Manage desk log-ins, and forget people (the privacy commands).

    python -m connectors.desk users add amal --role mediator --languages "ar fr it"
    python -m connectors.desk users reset-password amal
    python -m connectors.desk users list
    python -m connectors.desk forget --handoff 42  # delete the person of hand-off 42 everywhere
    python -m connectors.desk forget <sender id>   # the same by the conversation's sender id
    python -m connectors.desk retention            # delete conversations past the retention days
    python -m connectors.desk views [--handoff 42] # who opened which transcript, and when

Passwords are asked for twice (or read from standard input with
--password-stdin) and stored as Argon2id hashes. Roles: mediator (the desk),
operator (assist at a counter), admin (everything, and the dashboard).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from connectors.desk.auth import hash_password
from connectors.desk.store import ROLES, Store
from connectors.privacy import Privacy
from knowledge.settings import SettingsError, get_settings

MIN_PASSWORD = 10


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise SystemExit("The two passwords differ; nothing was changed.")
    if len(password) < MIN_PASSWORD:
        raise SystemExit(f"Use at least {MIN_PASSWORD} characters; nothing was changed.")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.desk", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="what", required=True)
    users = commands.add_parser("users", help="desk log-ins").add_subparsers(
        dest="action", required=True
    )
    add = users.add_parser("add", help="add a person")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--languages", default="it", help='languages they speak, e.g. "ar fr it"')
    add.add_argument("--password-stdin", action="store_true")
    reset = users.add_parser("reset-password", help="set a new password; ends their sessions")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    users.add_parser("list", help="who can log in")
    forget = commands.add_parser("forget", help="delete one person's conversation everywhere")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--handoff", type=int, help="the hand-off's number, as the desk shows it")
    who.add_argument("sender_id", nargs="?", help="the conversation's sender id")
    commands.add_parser("retention", help="delete conversations past privacy.retention_days")
    views = commands.add_parser("views", help="who opened which hand-off's transcript, when")
    views.add_argument("--handoff", type=int, help="only this hand-off")
    args = parser.parse_args(argv)

    try:
        settings = get_settings()
        store = Store.open(settings.desk.database_url)
        if args.what == "views":
            for view in store.views(args.handoff):
                print(f"{view['viewed_at']}\t{view['username']}\thand-off {view['handoff_id']}")
            return 0
        if args.what == "forget" and args.handoff is not None:
            args.sender_id = store.sender_of(args.handoff)
            if args.sender_id is None:
                raise SystemExit(f"No hand-off {args.handoff}; nothing was deleted.")
            args.label = f"the person of hand-off {args.handoff}"
        if args.what != "users":
            return privacy_command(args, Privacy.open(settings, store))
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None
    if args.action == "list":
        for user in store.list_users():
            print(f"{user.username}\t{user.role}\t{' '.join(user.languages)}")
        return 0
    if args.action == "add":
        if store.credentials(args.username):
            raise SystemExit(f"{args.username} exists already; use reset-password.")
        store.add_user(
            args.username,
            hash_password(read_password(args.password_stdin)),
            args.role,
            args.languages,
        )
        print(f"Added {args.username} ({args.role}).")
        return 0
    if not store.set_password(args.username, hash_password(read_password(args.password_stdin))):
        raise SystemExit(f"No user {args.username}; add them with `users add`.")
    print(f"New password set for {args.username}; their sessions have ended.")
    return 0


def privacy_command(args: argparse.Namespace, privacy: Privacy) -> int:
    if args.what == "retention":
        print(f"Deleted {privacy.apply_retention()} conversations past the retention period.")
        return 0
    # Through the request queue: a running web app deletes again whatever Rasa
    # was still writing for this person.
    deleted = privacy.request_forget(args.sender_id)
    label = getattr(args, "label", args.sender_id)
    if not any(deleted.values()):
        print(f"Nothing was kept about {label}.")
        return 0
    print(f"Deleted everything about {label}:")
    for place, count in deleted.items():
        print(f"  {place}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
