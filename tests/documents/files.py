"""Files for the upload tests, made here: photos with EXIF and GPS data, PDFs plain and with
active content, and the bad inputs (a renamed file, a truncated photo, a decompression bomb)."""

import io
import os
import struct
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

PHONE_MAKE = "KameraRahasia"


def jpeg(*, size=(3000, 2000), noisy=False) -> bytes:
    """A phone photo: EXIF with the phone's make and a GPS position (Surabaya). A noisy one
    compresses as badly as a real photo."""
    width, height = size
    image = Image.frombytes("RGB", size, os.urandom(width * height * 3)) if noisy else Image.new("RGB", size, "orange")
    exif = Image.Exif()
    exif[0x010F] = PHONE_MAKE
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (7.0, 15.0, 0.0), "E", (112.0, 45.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()


def png(*, size=(400, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 90, 200)).save(out, "PNG")
    return out.getvalue()


def _pdf(change=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if change:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf() -> bytes:
    return _pdf()


def pdf_with_javascript() -> bytes:
    return _pdf(lambda writer: writer.add_js("app.alert('hi');"))


def pdf_with_open_action() -> bytes:
    def open_action(writer):
        action = DictionaryObject(
            {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
        )
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)

    return _pdf(open_action)


def pdf_with_attachment() -> bytes:
    return _pdf(lambda writer: writer.add_attachment("payload.exe", b"MZ\x90\x00"))


def pdf_with_hidden_javascript_name() -> bytes:
    """`/JavaScript` and `/JS` written `/J#61vaScript` and `/J#53`: the same names to a PDF reader."""
    return pdf_with_javascript().replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")


def truncated_jpeg() -> bytes:
    data = jpeg(size=(800, 600))
    return data[: len(data) // 2]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(*, side=60_000) -> bytes:
    """A PNG of a few hundred bytes that claims 60,000 x 60,000 pixels (3.6 billion): a
    decompression bomb, refused before any pixel is decoded."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def windows_program() -> bytes:
    """What a renamed `photo.jpg` may really be."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def html_page() -> bytes:
    return b"<html><script>alert(document.cookie)</script></html>"
