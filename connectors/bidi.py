"""Left-to-right runs inside right-to-left text, isolated for plain-text channels.

    isolate_ltr_runs("اتصل على +39 0121 000007")  # "اتصل على \u2068+39 0121 000007\u2069"

Telegram and WhatsApp show plain text, where an Arabic reply turns
"+39 0121 000007" into "000007 0121 39+" and "02/12 09:00" into
"09:00 02/12". Each run of numbers, phone numbers, URLs, Italian names in
«» or Latin words in a line shown right to left (its first letter is) is
wrapped in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE, which keeps its
order. Other lines are returned unchanged. The widget and the desk
pages do the same with ``<bdi>`` (widget.js, desk/static/common.js).

Imports nothing from Rasa or the knowledge side: both environments use it.
"""

from __future__ import annotations

import re

FSI, PDI = "\u2068", "\u2069"
_RTL = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff"
# The first letter (what a reader's "auto" direction follows) is right to left.
_RTL_FIRST = re.compile(f"^[\\W\\d_]*[{_RTL}]")
_LTR = "0-9A-Za-z\u00c0-\u024f"
# Starts with a digit or Latin letter (or «, (, + before one), runs over
# anything but right-to-left letters and isolates, ends on a digit, letter, », ) or /.
_LTR_RUN = re.compile(f"[«(+]?[{_LTR}](?:[^{_RTL}\n\u2066-\u2069]*[{_LTR}»)/])?")


def isolate_ltr_runs(text: str) -> str:
    """`text` with each left-to-right run isolated in its right-to-left lines."""
    return "\n".join(_isolated(line) for line in text.split("\n"))


def _isolated(line: str) -> str:
    # Only a line shown right to left (its first letter is): an Italian line
    # quoting an Arabic address needs nothing.
    if not _RTL_FIRST.match(line):
        return line
    return _LTR_RUN.sub(lambda run: f"{FSI}{run.group(0)}{PDI}", line)
