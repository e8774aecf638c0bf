"""QR codes as inline SVG, for printed pages (no image files, no network).

qr_svg("https://comune.example/chat", "Chat")   # '<svg ... role="img" aria-label="Chat">...'
"""

from __future__ import annotations

from html import escape

import segno


def qr_svg(address: str, label: str, scale: int = 2) -> str:
    """The QR code of `address` as an <svg> element, labelled for screen readers."""
    code = segno.make(address, error="m", micro=False)
    svg = code.svg_inline(scale=scale, border=2, dark="#000", light="#fff", omitsize=False)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
