"""Manage desk log-ins.

    python -m connectors.desk users add amal --role mediator --languages "ar fr it"
    python -m connectors.desk users reset-password amal
    python -m connectors.desk users list

Passwords are asked for twice (or read from standard input with
--password-stdin) and stored as scrypt hashes. Roles: mediator (the desk),
operator (assist at a counter), admin (everything, and the dashboard).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from connectors.desk.auth import hash_password
from connectors.desk.store import ROLES, Store
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
    args = parser.parse_args(argv)

    try:
        store = Store.open(get_settings().desk.database_url)
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


if __name__ == "__main__":
    sys.exit(main())
