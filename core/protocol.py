"""Names that cross process boundaries, defined once for every process.

Rasa's channels send these payloads in place of a refused message; the
dialogue answers them and the desk shows them for what they are.
"""

TOO_LONG = "/message_too_long"
RATE_LIMITED = "/rate_limited"

# The key of every bot message the action server returns that names the
# conversation's language; Rasa keeps it in the bot event's metadata and the
# socket.io output passes it on, so the widget's own labels follow it.
MESSAGE_LANGUAGE = "language"
