"""Names that cross process boundaries, defined once for every process.

Rasa's channels send these payloads in place of a refused message; the
dialogue answers them and the desk shows them for what they are.
"""

TOO_LONG = "/message_too_long"
RATE_LIMITED = "/rate_limited"
