"""Rasa's command line, with an apology instead of silence when the action server is down.

    python -m bot.rasa_run run --model models/helpdesk.tar.gz ...   # what bot/serve.py starts

Rasa 3.6 logs a failed custom action and goes on, so a person whose turn needs
the action server (language, answers, hand-off) gets no reply at all. Here a
custom action that cannot be reached (connection refused, timeout, 5xx) utters
``utter_action_unavailable`` in the person's language instead: sorry, try
again in a few minutes or go to the desk, and 112 in danger. The turn then
ends, so one turn gets one apology however many actions would have followed.
The person's message stays in the tracker like any other.

Rasa has no hook for this, so ``RemoteAction.run`` is wrapped once, here,
before Rasa's own ``main``. ``RemoteAction._validate_action_result`` is
replaced too: Rasa's calls ``jsonschema.validate``, which checks the schema
itself again on every action call (28% of Rasa's CPU under load); here the
validator is built once and checks only the answer. Every log line of the
Rasa process is redacted too (``core.redact``: phone numbers, e-mails, IBANs,
tax codes, document numbers). A message its client sent again after a lost
connection, which the conversation already holds, is not handled twice
(``handle_each_message_once``, connectors/once.py). This module runs in
Rasa's Python 3.10 environment.

The API token comes from ``HELPDESK_RASA_TOKEN`` and is added to ``sys.argv``
here, inside the process, so it never shows in ``ps`` or /proc/<pid>/cmdline.
Files are created for this user only (umask 077), as bot/serve.py starts it.
"""

from __future__ import annotations

import functools
import logging
import os
import sys

from rasa.core.actions.action import RemoteAction, create_bot_utterance
from rasa.shared.core.events import Event, FollowupAction
from rasa.shared.exceptions import RasaException

log = logging.getLogger(__name__)

APOLOGY = "utter_action_unavailable"


def apologise_when_unreachable() -> None:
    """Wrap RemoteAction.run so an unreachable action server gets an apology (idempotent)."""
    if getattr(RemoteAction.run, "helpdesk_apology", False):
        return
    run = RemoteAction.run

    @functools.wraps(run)
    async def run_or_apologise(self, output_channel, nlg, tracker, domain) -> list[Event]:
        try:
            return await run(self, output_channel, nlg, tracker, domain)
        except RasaException as exc:
            if not str(exc).startswith("Failed to execute custom action"):
                raise
            log.error("Action %s failed (%s); the person gets an apology", self.name(), exc)
            message = await nlg.generate(APOLOGY, tracker, output_channel.name()) or {}
            apology = create_bot_utterance({**message, "utter_action": APOLOGY})
            # Rasa sends an action's BotUttered events itself; listening next ends the turn.
            return [apology, FollowupAction("action_listen")]

    run_or_apologise.helpdesk_apology = True
    RemoteAction.run = run_or_apologise


def validate_with_one_validator() -> None:
    """Check action answers against Rasa's schema with a validator built once (idempotent)."""
    if getattr(RemoteAction._validate_action_result, "helpdesk_validator", False):
        return
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    kind = validator_for(schema)
    kind.check_schema(schema)
    validator = kind(schema)

    def validate_action_result(self, result: dict) -> bool:
        try:
            validator.validate(result)
        except ValidationError as e:
            # Rasa's own message, so the logs read as before.
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid."
            )
            raise e
        return True

    validate_action_result.helpdesk_validator = True
    RemoteAction._validate_action_result = validate_action_result


def handle_each_message_once() -> None:
    """Wrap MessageProcessor.handle_message so a message a client sent again,
    which the conversation already holds, is not handled twice (connectors/once.py).
    Rasa calls it inside the conversation's lock (the lock store)."""
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor

    from connectors.once import RESENT, already_handled

    if getattr(MessageProcessor.handle_message, "helpdesk_once", False):
        return
    handle = MessageProcessor.handle_message

    @functools.wraps(handle)
    async def handle_once(self, message):
        if (message.metadata or {}).get(RESENT):
            tracker = await self.tracker_store.retrieve(message.sender_id)
            if tracker is not None and already_handled(tracker.events, message.message_id):
                log.info("A message sent again was handled already; not handled twice")
                return [] if isinstance(message.output_channel, CollectingOutputChannel) else None
        return await handle(self, message)

    handle_once.helpdesk_once = True
    MessageProcessor.handle_message = handle_once


def add_token_from_environment(argv: list[str], environ: dict[str, str]) -> list[str]:
    """`argv` with ``--auth-token`` from HELPDESK_RASA_TOKEN for ``rasa run`` (when set)."""
    token = environ.get("HELPDESK_RASA_TOKEN", "")
    if not token or "run" not in argv[1:2] or "--auth-token" in argv:
        return argv
    return [*argv, "--auth-token", token]


def main() -> None:
    from rasa.__main__ import main as rasa_main

    from core.redact import install_log_redaction

    os.umask(0o077)
    sys.argv = add_token_from_environment(sys.argv, dict(os.environ))
    install_log_redaction()
    apologise_when_unreachable()
    validate_with_one_validator()
    handle_each_message_once()
    rasa_main()


if __name__ == "__main__":
    main()
