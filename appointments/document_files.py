"""What an uploaded document's content is, and whether it may be kept: run before anything is
stored (docs/documents.md).

The type comes from the leading bytes, never from the file's name or the client's content type.
Photos are decoded and saved again, scaled down: that drops their EXIF data (the phone's GPS
position among it) and anything appended to the image. A picture of too many pixels is refused
before it is decoded: a decompression bomb is a small file of a huge image. PDFs are parsed and
refused when they carry active content (JavaScript, actions run on opening, launch or submit
actions, attached files, XFA forms); they are kept as sent."""

import io
import struct
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from .exceptions import FileDamaged, FileTooLarge, FileTypeNotAllowed, FileUnsafe, ImageTooLarge

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
SIGNATURES = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"%PDF-", PDF))
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
FIELD = "file"  # the input field every refusal here is about

# Dictionary keys and action types that make a PDF do something when it is opened or clicked.
ACTIVE_KEYS = frozenset(
    {"/JavaScript", "/JS", "/OpenAction", "/AA", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA"}
)
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/RichMediaExecute"})
# A scanned document has a few hundred objects; a file with far more is not one.
PDF_MAX_OBJECTS = 100_000
PDF_ENCRYPTED = _("The PDF is protected by a password. Save it again without one, or send a photo of the document.")
PDF_TOO_MANY_PAGES = _("The PDF has more than %(limit)s pages.")


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def check_file(file) -> CheckedFile:
    """The content to keep of an uploaded file (a file object), or the refusal that says why not."""
    data = _read_within_limit(file)
    content_type = detect_type(data)
    if content_type == PDF:
        check_pdf(data)
        return CheckedFile(content=data, content_type=PDF)
    return CheckedFile(content=reencode_image(data, content_type), content_type=content_type)


def check_image(file, *, not_an_image) -> CheckedFile:
    """As `check_file`, for a file that must be a photo (an e-KTP for a NIK dispute): a PDF, or
    anything else, is refused with `not_an_image`, a domain error."""
    data = _read_within_limit(file)
    content_type = next((t for signature, t in SIGNATURES if data.startswith(signature)), None)
    if content_type not in PILLOW_FORMATS:
        raise not_an_image
    return CheckedFile(content=reencode_image(data, content_type), content_type=content_type)


def _read_within_limit(file) -> bytes:
    limit = settings.DOCUMENT_MAX_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(limit=limit // (1024 * 1024), field=FIELD)
    return data


def detect_type(data: bytes) -> str:
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise FileTypeNotAllowed(field=FIELD)


def reencode_image(data: bytes, content_type: str) -> bytes:
    max_side = settings.DOCUMENT_IMAGE_MAX_SIDE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[content_type]])
            width, height = image.size
            if width * height > settings.DOCUMENT_MAX_PIXELS:
                raise ImageTooLarge(limit=settings.DOCUMENT_MAX_PIXELS // 1_000_000, field=FIELD)
            image.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale where it can
            image.load()
            ImageOps.exif_transpose(image, in_place=True)  # upright, before the EXIF data is dropped
            image.thumbnail((max_side, max_side))
            out = io.BytesIO()
            if content_type == JPEG:
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            else:
                image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB").save(
                    out, "PNG"
                )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(limit=settings.DOCUMENT_MAX_PIXELS // 1_000_000, field=FIELD) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise FileDamaged(field=FIELD) from exc
    return out.getvalue()


def check_pdf(data: bytes) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise FileDamaged(PDF_ENCRYPTED, field=FIELD)
        pages = len(reader.pages)
        if pages == 0:
            raise FileDamaged(field=FIELD)
        if pages > settings.DOCUMENT_PDF_MAX_PAGES:
            raise FileTooLarge(PDF_TOO_MANY_PAGES, limit=settings.DOCUMENT_PDF_MAX_PAGES, field=FIELD)
        active = has_active_content(reader.trailer)
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise FileDamaged(field=FIELD) from exc
    if active:
        raise FileUnsafe(field=FIELD)


def has_active_content(root) -> bool:
    """Whether any object reachable from the PDF's trailer is active content. pypdf decodes
    names (`/J#61vaScript` is `/JavaScript`) and object streams; content streams are not read."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise FileDamaged(field=FIELD)
        if isinstance(obj, DictionaryObject):
            for name, value in obj.items():
                if name in ACTIVE_KEYS or (name == "/S" and value in ACTIVE_ACTIONS):
                    return True
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return False
