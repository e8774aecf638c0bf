"""A photo or PDF a person sends a mediator: which files are taken, and what is kept of them."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from connectors.desk.attachments import AttachmentRefused, clean, kind_of

LIMIT = 1024 * 1024
# Where the photo was taken, as a phone writes it (EXIF GPS IFD 0x8825).
GPS = {1: "N", 2: (45.0, 49.0, 12.0), 3: "E", 4: (7.0, 15.0, 30.0)}


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = 6  # Orientation: turn 90 degrees to show upright
    exif.get_ifd(0x8825).update(GPS)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, icc_profile=b"not a real profile")
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Amina K., via Roma 12")
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_a_photo_keeps_its_pixels_and_loses_its_place_and_phone():
    raw = photo_with_gps()
    with Image.open(io.BytesIO(raw)) as before:
        assert before.getexif().get_ifd(0x8825)  # the GPS is there to begin with
    kind, kept = clean(raw, LIMIT)
    assert kind == "image/jpeg" and kind_of(kept) == "image/jpeg"
    with Image.open(io.BytesIO(kept)) as after:
        assert dict(after.getexif()) == {} and "icc_profile" not in after.info
        assert after.size == (48, 64)  # turned upright, as its orientation said
        red, green, blue = after.getpixel((10, 10))
        assert red > 150 and green < 80 and blue < 80
    for trace in (b"Exif", b"PhoneMaker", b"Model X", b"not a real profile"):
        assert trace not in kept


def test_a_png_loses_its_text_chunks_and_keeps_transparency():
    kind, kept = clean(png_with_text(), LIMIT)
    assert kind == "image/png" and b"Amina" not in kept and b"tEXt" not in kept
    with Image.open(io.BytesIO(kept)) as after:
        assert after.mode == "RGBA" and after.getpixel((0, 0)) == (0, 0, 255, 128)


def test_a_pdf_is_told_by_its_first_bytes_and_kept_as_sent():
    pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    assert clean(pdf, LIMIT) == ("application/pdf", pdf)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 400, "The file is empty."),
        (b"\xff\xd8\xff" + b"0" * LIMIT, 413, "too large: at most 1.0 MB"),
        # A program, an HTML page and a Word file renamed to .jpg: what they are counts.
        (b"MZ\x90\x00" + b"\x00" * 100, 415, "JPEG or PNG"),
        (b"<html><script>alert(1)</script></html>", 415, "JPEG or PNG"),
        (b"PK\x03\x04word/document.xml", 415, "JPEG or PNG"),
        # JPEG's first bytes, then nothing a decoder can read.
        (b"\xff\xd8\xff\xe0" + b"garbage" * 20, 400, "could not be read"),
    ],
)
def test_empty_huge_renamed_and_damaged_files_are_refused(data, status, message):
    with pytest.raises(AttachmentRefused, match=message) as refused:
        clean(data, LIMIT)
    assert refused.value.status == status


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    # 10,000 x 10,000 of one colour: a few KB as PNG, 300 MB once decoded.
    Image.new("L", (10_000, 10_000)).save(out, "PNG")
    assert len(out.getvalue()) < LIMIT
    with pytest.raises(AttachmentRefused, match="too large") as refused:
        clean(out.getvalue(), LIMIT)
    assert refused.value.status == 413


def test_the_size_limit_is_a_setting_with_an_environment_override(tmp_path):
    from knowledge.settings import SettingsError, load_settings

    environ = {"HELPDESK_DATA_DIR": str(tmp_path)}
    assert load_settings(environ=environ).desk.attachment_max_bytes == 5 * 1024 * 1024
    environ["HELPDESK_ATTACHMENT_MAX_BYTES"] = "2097152"
    assert load_settings(environ=environ).desk.attachment_max_bytes == 2 * 1024 * 1024
    for wrong in ("lots", "0", str(100 * 1024 * 1024)):
        environ["HELPDESK_ATTACHMENT_MAX_BYTES"] = wrong
        with pytest.raises(SettingsError, match="desk.attachment_max_bytes.*HELPDESK_ATTACHMENT"):
            load_settings(environ=environ)
