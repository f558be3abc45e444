"""Upload checks and normalisation for images (API.md §1.8), shared by avatars and commodities.

`validate_image_upload(file)` → a decoded `PIL.Image.Image` or Django `ValidationError`;
`normalise(image, size=...)` → `NormalisedImage(content, ext, width, height)` ready to store under
a server-generated name. Nothing here trusts the client's filename or `Content-Type`.
"""

import io
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "MPO"})
# Pillow calls a JPEG that carries more images (a phone's gain map or depth map) "MPO": it is a
# JPEG file, read and stored as its first image
FORMAT_ALIASES = {"MPO": "JPEG"}
MAX_DIMENSION = 4096  # pixels, each side
TOO_LARGE = "File too large (max 2 MB)."
INVALID = "Upload a valid image."


def max_upload_bytes() -> int:
    """The upload limit in bytes (`FILE_UPLOAD_MAX_SIZE`, 2 MiB by default)."""
    return getattr(settings, "FILE_UPLOAD_MAX_SIZE", 2 * 1024 * 1024)


def validate_image_upload(file: IO[bytes]) -> Image.Image:
    """Check an uploaded file and return it decoded (pixels loaded, `format` kept).

    Checks, in order: size ≤ `max_upload_bytes()` (else `ValidationError(TOO_LARGE,
    code="file_too_large")`); Pillow can identify it as JPEG (also as MPO: a JPEG with more images,
    `format` then reads JPEG)/PNG/GIF, at most 4096×4096 px, and
    `verify()` passes, then it decodes fully (else `ValidationError(INVALID, code="invalid_image")`).
    """
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    if size > max_upload_bytes():
        raise ValidationError(TOO_LARGE, code="file_too_large")
    try:
        file.seek(0)
        with Image.open(file) as probe:
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise ValidationError(INVALID, code="invalid_image")
            width, height = probe.size
            if width > MAX_DIMENSION or height > MAX_DIMENSION or width < 1 or height < 1:
                raise ValidationError(INVALID, code="invalid_image")
            probe.verify()
        file.seek(0)
        image = Image.open(file)  # verify() leaves the image unusable: decode again
        image.load()
    except ValidationError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(INVALID, code="invalid_image") from exc
    image.format = FORMAT_ALIASES.get(fmt, fmt)
    return image


@dataclass(frozen=True)
class NormalisedImage:
    """Encoded image bytes and the extension of their format (`png` or `jpg`); size in px."""

    content: bytes
    ext: str
    width: int
    height: int


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def normalise(
    image: Image.Image, *, size: tuple[int, int] | None = (256, 256), quality: int = 88
) -> NormalisedImage:
    """Re-encode a validated image: EXIF orientation applied (skipped when the EXIF block cannot
    be read), metadata dropped, first frame only.

    `size` (w, h) → centre-cropped and resized to exactly that size; `None` keeps the size.
    Images with transparency (and GIFs) become PNG, others JPEG (`quality` 1–95).
    """
    try:
        frame = ImageOps.exif_transpose(image) or image
    except (SyntaxError, ValueError, OSError, TypeError, KeyError):  # unreadable EXIF block
        frame = image  # kept as stored, unrotated
    as_png = _has_alpha(frame) or image.format in ("PNG", "GIF")
    frame = frame.convert("RGBA" if _has_alpha(frame) else "RGB")
    if size is not None:
        frame = ImageOps.fit(frame, size, method=Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if as_png:
        frame.save(buffer, format="PNG", optimize=True)
        ext = "png"
    else:
        frame.save(buffer, format="JPEG", quality=quality, optimize=True)
        ext = "jpg"
    return NormalisedImage(buffer.getvalue(), ext, frame.width, frame.height)
