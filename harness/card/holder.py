"""Synthetic card holders: a valid national code, Persian names, a birth date and a face JPEG of set size."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from PIL import Image, ImageDraw

from protocol.national_code import complete_national_code

FACE_MIN_BYTES = 10 * 1024
FACE_MAX_BYTES = 25 * 1024
_GIVEN = ("محمد", "علی", "رضا", "فاطمه", "زهرا", "مریم", "حسین", "نرگس", "آرش", "سارا")
_FAMILY = ("محمدی", "حسینی", "احمدی", "رضایی", "موسوی", "کریمی", "حسین‌زاده", "علی‌پور", "نجفی", "طاهری")
_FATHER = ("احمد", "حسن", "عباس", "مجید", "ناصر", "کاظم", "یوسف", "ابراهیم")


@dataclass(frozen=True)
class CardHolder:
    """The person a virtual card is issued to."""

    national_code: str
    given_name: str
    family_name: str
    father_name: str
    birth_date: date
    face_jpeg: bytes = field(repr=False)


def synthetic_holder(seed: int, face_bytes: int = 20 * 1024) -> CardHolder:
    """A reproducible holder for `seed`, with a face JPEG close to `face_bytes` (10-25 KB)."""
    rng = random.Random(seed)
    first_nine = f"{rng.randrange(1, 10)}{rng.randrange(10**8):08d}"
    return CardHolder(
        national_code=complete_national_code(first_nine),
        given_name=rng.choice(_GIVEN),
        family_name=rng.choice(_FAMILY),
        father_name=rng.choice(_FATHER),
        birth_date=date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65)),
        face_jpeg=synthetic_face_jpeg(seed, face_bytes),
    )


def synthetic_face_jpeg(seed: int, target_bytes: int = 20 * 1024) -> bytes:
    """A portrait-shaped synthetic image, encoded at the JPEG quality that comes closest to `target_bytes`."""
    if not FACE_MIN_BYTES <= target_bytes <= FACE_MAX_BYTES:
        raise ValueError(f"face size {target_bytes} outside {FACE_MIN_BYTES}-{FACE_MAX_BYTES} bytes")
    image = _portrait(seed)
    tried: list[bytes] = []
    low, high = 5, 95
    while low <= high:
        quality = (low + high) // 2
        tried.append(_jpeg(image, quality))
        if len(tried[-1]) <= target_bytes:
            low = quality + 1
        else:
            high = quality - 1
    fitting = [jpeg for jpeg in tried if FACE_MIN_BYTES <= len(jpeg) <= FACE_MAX_BYTES]
    if not fitting:
        raise ValueError("synthetic face cannot reach the requested size")
    within = [jpeg for jpeg in fitting if len(jpeg) <= target_bytes]
    if within:
        return max(within, key=len)
    return min(fitting, key=len)


def _portrait(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = 240, 320
    y, x = np.mgrid[0:height, 0:width]
    background = np.stack([120 + 60 * x / width, 140 + 40 * y / height, 170 - 30 * x / width], axis=-1)
    noise = rng.normal(0, 8, (height, width, 3))
    image = Image.fromarray(np.clip(background + noise, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    skin = tuple(int(v) for v in rng.integers(150, 230, 3))
    draw.ellipse((60, 60, 180, 230), fill=(skin[0], skin[1], skin[2]))
    draw.ellipse((88, 120, 108, 132), fill=(40, 30, 30))
    draw.ellipse((132, 120, 152, 132), fill=(40, 30, 30))
    draw.arc((95, 160, 145, 200), 20, 160, fill=(120, 40, 40), width=4)
    draw.rectangle((40, 250, 200, 320), fill=(30, 40, 80))
    return image


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
