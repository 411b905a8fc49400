"""The content checks of an upload, one bad input at a time: each refused with its own
translated message, and the good files kept as they should be (photos re-encoded without
EXIF or GPS data, scaled down)."""

import io

import pytest
from django.utils import translation
from PIL import Image

from appointments.document_files import check_file
from appointments.exceptions import FileDamaged, FileTooLarge, FileTypeNotAllowed, FileUnsafe, ImageTooLarge
from tests.documents import files


def test_a_phone_photo_is_re_encoded_without_its_exif_and_gps_data_and_scaled_down(settings):
    original = files.jpeg(size=(3000, 2000))
    assert files.PHONE_MAKE.encode() in original
    kept = check_file(io.BytesIO(original))
    assert kept.content_type == "image/jpeg" and kept.extension == "jpg"
    assert files.PHONE_MAKE.encode() not in kept.content
    image = Image.open(io.BytesIO(kept.content))
    assert not image.getexif() and "exif" not in image.info
    assert max(image.size) == settings.DOCUMENT_IMAGE_MAX_SIDE and image.size == (2000, 1333)


def test_a_png_stays_a_png_and_a_plain_pdf_is_kept_as_sent():
    assert check_file(io.BytesIO(files.png())).content_type == "image/png"
    plain = files.pdf()
    kept = check_file(io.BytesIO(plain))
    assert (kept.content_type, kept.content, kept.extension) == ("application/pdf", plain, "pdf")


@pytest.mark.parametrize(
    "content, error, words",
    [
        (files.windows_program(), FileTypeNotAllowed, "whatever its name says"),
        (files.html_page(), FileTypeNotAllowed, "whatever its name says"),
        (b"", FileTypeNotAllowed, "JPEG or PNG"),
        (files.truncated_jpeg(), FileDamaged, "damaged"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, FileDamaged, "damaged"),
        (b"%PDF-1.7\n garbage", FileDamaged, "damaged"),
        (files.png_bomb(), ImageTooLarge, "40 million"),
        (files.pdf_with_javascript(), FileUnsafe, "JavaScript"),
        (files.pdf_with_hidden_javascript_name(), FileUnsafe, "JavaScript"),
        (files.pdf_with_open_action(), FileUnsafe, "JavaScript"),
        (files.pdf_with_attachment(), FileUnsafe, "attached files"),
    ],
    ids=[
        "program-renamed-jpg",
        "html",
        "empty",
        "truncated-jpeg",
        "png-without-image",
        "pdf-garbage",
        "decompression-bomb",
        "pdf-javascript",
        "pdf-javascript-hex-escaped-name",
        "pdf-launch-on-open",
        "pdf-attachment",
    ],
)
def test_each_bad_file_is_refused_with_its_reason(content, error, words):
    with translation.override("en"), pytest.raises(error) as refused:
        check_file(io.BytesIO(content))
    assert words in refused.value.message
    assert refused.value.field == "file"


def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded(settings):
    settings.DOCUMENT_MAX_BYTES = 50_000
    photo = files.jpeg(size=(400, 300), noisy=True)
    assert len(photo) > 50_000
    with pytest.raises(FileTooLarge):
        check_file(io.BytesIO(photo))


def test_an_image_just_over_the_pixel_limit_is_refused_as_a_bomb(settings):
    settings.DOCUMENT_MAX_PIXELS = 100 * 100
    with pytest.raises(ImageTooLarge):
        check_file(io.BytesIO(files.png(size=(101, 100))))
    assert check_file(io.BytesIO(files.png(size=(100, 100))))


def test_the_refusals_are_translated_into_indonesian():
    with translation.override("id"), pytest.raises(FileTypeNotAllowed) as refused:
        check_file(io.BytesIO(files.windows_program()))
    assert "JPEG" in refused.value.message and "whatever" not in refused.value.message
