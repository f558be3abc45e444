"""Image captcha drawing (API.md §2.1 "Captcha"): codes from `secrets`, 140×40 PNG with noise.

Pure functions, no storage: `apps.users.services` keeps the code in the `verify_codes` cache.
"""

import io
import secrets
import string
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

#: `[A-Za-z0-9]` minus the look-alikes `0 O o 1 l I`.
ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in set("0Oo1lI"))
CODE_LENGTH = 4
WIDTH, HEIGHT = 140, 40  # pixels


def generate_code(length: int = CODE_LENGTH) -> str:
    """Return `length` characters drawn uniformly from `ALPHABET` with `secrets`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


@lru_cache(maxsize=1)
def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    # Pillow's embedded font (no font file on disk needed), scaled with FreeType.
    return ImageFont.load_default(size=30)


def _rand_color(low: int, high: int) -> tuple[int, int, int]:
    return tuple(low + secrets.randbelow(high - low) for _ in range(3))  # type: ignore[return-value]


def render_png(code: str) -> bytes:
    """Draw `code` on a 140×40 RGB image with noise lines and dots; return PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), _rand_color(225, 255))
    draw = ImageDraw.Draw(image)
    font = _font()
    slot = WIDTH // (len(code) + 1)
    for i, ch in enumerate(code):
        glyph = Image.new("RGBA", (36, 40), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((4, 0), ch, font=font, fill=(*_rand_color(10, 130), 255))
        glyph = glyph.rotate(secrets.randbelow(41) - 20, resample=Image.Resampling.BICUBIC)
        x = 8 + i * slot + secrets.randbelow(8)
        image.paste(glyph, (x, secrets.randbelow(4) - 2), glyph)
    for _ in range(4):  # noise lines
        start = (secrets.randbelow(WIDTH), secrets.randbelow(HEIGHT))
        end = (secrets.randbelow(WIDTH), secrets.randbelow(HEIGHT))
        draw.line([start, end], fill=_rand_color(90, 200), width=1)
    for _ in range(120):  # noise dots
        draw.point((secrets.randbelow(WIDTH), secrets.randbelow(HEIGHT)), fill=_rand_color(60, 220))
    image = image.filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
