"""Small synthetic image folders (PNG and JPEG, one subfolder per class) that a model
can learn: class k brightens the k-th quarter of the image."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

CLASSES = ("circle", "square", "triangle")


def image(k: int, rng: np.random.Generator, size: int = 16, channels: int = 3) -> np.ndarray:
    pixels = rng.integers(0, 60, (size, size, channels), dtype=np.uint8)
    row, col = divmod(k, 2)
    half = size // 2
    pixels[row * half : (row + 1) * half, col * half : (col + 1) * half] = 250
    return pixels


def png(pixels: np.ndarray) -> bytes:
    """A PNG of (h, w, channels) uint8 pixels, without any imaging library."""
    h, w, c = pixels.shape

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2, 4: 6}[c], 0, 0, 0)
    raw = b"".join(b"\0" + row.tobytes() for row in pixels)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))  # fmt: skip


def save(path: Path, pixels: np.ndarray) -> None:
    """A PNG (pure Python) or a JPEG (TensorFlow's encoder), by the suffix."""
    if path.suffix == ".png":
        path.write_bytes(png(pixels))
        return
    import tensorflow as tf

    path.write_bytes(tf.io.encode_jpeg(pixels).numpy())


def write_folder(
    folder: Path, per_class: int = 8, classes: tuple[str, ...] = CLASSES, seed: int = 0,
    channels: int = 3, jpeg: bool = True,
) -> Path:  # fmt: skip
    """``folder/<class>/<i>.png|.jpg``: half PNG, half JPEG (all PNG without ``jpeg``)."""
    rng = np.random.default_rng(seed)
    for k, name in enumerate(classes):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            suffix = ".jpg" if jpeg and i % 2 == 0 else ".png"
            save(folder / name / f"{i}{suffix}", image(k, rng, channels=channels))
    return folder
