"""A photo or PDF a person sends the mediator holding their hand-off: checked and cleaned.

    kind, data = clean(raw_bytes, max_bytes)   # ("image/png", re-encoded bytes)
    # AttachmentRefused(message, status) for empty, too large or another type

Only JPEG, PNG and PDF are taken, told by their first bytes (a renamed file
is what it is, whatever its name or the browser's type says). Photos are
decoded and encoded again with Pillow, keeping only the pixels: EXIF (the
place a photo was taken, the phone), XMP, ICC and text chunks are gone, and
the picture is turned upright first, as the EXIF orientation said. A PDF is
kept as sent: the desk serves it as a download only, never shown in its pages.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

# A letter photographed with a phone: 12 to 50 megapixels. Larger, or a
# decompression bomb, is refused before its pixels are decoded.
MAX_PIXELS = 60_000_000
MAGIC = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
WRONG_TYPE = "Only photos (JPEG or PNG) and PDF files can be sent."


class AttachmentRefused(Exception):
    """Why a file is not kept, said to the person; `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def kind_of(data: bytes) -> str | None:
    """The type told by the first bytes: image/jpeg, image/png, application/pdf or None."""
    return next((kind for magic, kind in MAGIC.items() if data.startswith(magic)), None)


def too_large_message(max_bytes: int) -> str:
    return f"The file is too large: at most {max_bytes / (1024 * 1024):.1f} MB."


def clean(data: bytes, max_bytes: int) -> tuple[str, bytes]:
    """(content type, bytes to keep); AttachmentRefused when the file is not taken."""
    if not data:
        raise AttachmentRefused("The file is empty.")
    if len(data) > max_bytes:
        raise AttachmentRefused(too_large_message(max_bytes), 413)
    kind = kind_of(data)
    if kind is None:
        raise AttachmentRefused(WRONG_TYPE, 415)
    if kind == "application/pdf":
        return kind, data
    return kind, _reencoded(data, kind)


def _reencoded(data: bytes, kind: str) -> bytes:
    try:
        with warnings.catch_warnings():
            # Pillow warns, then refuses, past MAX_IMAGE_PIXELS: refuse at once.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise AttachmentRefused("The photo is too large; send a smaller one.", 413)
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise AttachmentRefused("The photo could not be read; it may be damaged.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise AttachmentRefused("The photo is too large; send a smaller one.", 413) from None
    if upright.mode in ("P", "PA"):
        upright = upright.convert("RGBA")
    # Only the pixels: a new image has no info (EXIF, XMP, ICC, text) to write.
    pixels = Image.new(upright.mode, upright.size)
    pixels.paste(upright)
    out = io.BytesIO()
    if kind == "image/jpeg":
        if pixels.mode not in ("RGB", "L", "CMYK"):
            pixels = pixels.convert("RGB")
        pixels.save(out, "JPEG", quality=88, optimize=True)
    else:
        pixels.save(out, "PNG", optimize=True)
    return out.getvalue()
