"""The kart sprite (seen from behind, leaning with the stick) and a tiny bitmap font for the HUD.

Both are drawn procedurally in numpy, so rendering needs no image files and no fonts.
"""

from __future__ import annotations

import functools

import numpy as np

KART_W, KART_H = 56, 40
GLYPHS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001010010010",
    "8": "111101111101111",
    "9": "111101111001111",
    "L": "100100100100111",
    "A": "010101111101101",
    "P": "110101110100100",
    "K": "101101110101101",
    "M": "101111111101101",
    "H": "101101111101101",
    "/": "001001010100100",
    ":": "000010000010000",
    ".": "000000000000010",
    " ": "000000000000000",
}


def _ellipse(h: int, w: int, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return ((yy + 0.5 - cy) / ry) ** 2 + ((xx + 0.5 - cx) / rx) ** 2 <= 1.0


def kart_sprite(lean: int) -> tuple[np.ndarray, np.ndarray]:
    """RGB (KART_H, KART_W, 3) and mask; lean -1/0/1 shifts the driver and front with the steering."""
    rgb = np.zeros((KART_H, KART_W, 3), dtype=np.uint8)
    mask = np.zeros((KART_H, KART_W), dtype=bool)

    def paint(area: np.ndarray, colour: tuple[int, int, int]) -> None:
        rgb[area] = colour
        mask[area] = True

    h, w = KART_H, KART_W
    yy, xx = np.mgrid[0:h, 0:w]
    shift = 3 * lean
    paint(_ellipse(h, w, 36.5, 28, 3.5, 27), (30, 70, 30))  # shadow on the grass/road
    front = (yy >= 15) & (yy < 21) & (xx >= 8 + shift) & (xx < 48 + shift)
    paint(front & ((xx < 14 + shift) | (xx >= 42 + shift)), (25, 25, 25))  # front wheels
    paint(_ellipse(h, w, 13, 28 + shift, 7, 7), (232, 180, 140))  # head
    paint(_ellipse(h, w, 9, 28 + shift, 5, 8) & (yy < 11), (220, 30, 30))  # cap
    paint((yy >= 18) & (yy < 26) & (abs(xx - 28 - shift / 2) < 10), (40, 60, 200))  # overalls
    paint((yy >= 22) & (yy < 33) & (xx >= 10) & (xx < 46), (220, 30, 30))  # body
    paint((yy >= 29) & (yy < 32) & (xx >= 16) & (xx < 40), (150, 150, 150))  # bumper
    paint((yy >= 24) & (yy < 37) & ((xx < 11) | (xx >= 45)) & (xx >= 1) & (xx < 55), (20, 20, 20))  # rear wheels
    paint((yy >= 27) & (yy < 30) & ((xx < 11) | (xx >= 45)) & (xx >= 3) & (xx < 53), (70, 70, 70))  # tread
    return rgb, mask


KART_SPRITES = {lean: kart_sprite(lean) for lean in (-1, 0, 1)}


@functools.lru_cache(maxsize=64)
def _glyph(char: str, scale: int) -> np.ndarray:
    """Boolean mask of one character with its spacing column (5 * scale rows, 4 * scale columns)."""
    bits = np.array([int(b) for b in GLYPHS.get(char, GLYPHS[" "])], dtype=bool).reshape(5, 3)
    return np.repeat(np.repeat(np.pad(bits, ((0, 0), (0, 1))), scale, axis=0), scale, axis=1)


@functools.lru_cache(maxsize=1024)
def _text_mask(text: str, scale: int) -> np.ndarray:
    """Boolean mask of `text` (5 * scale rows, 4 * scale columns per character)."""
    if not text:
        return np.zeros((5 * scale, 0), dtype=bool)
    return np.concatenate([_glyph(char, scale) for char in text.upper()], axis=1)


def draw_text(image: np.ndarray, text: str, x: int, y: int, scale: int = 2) -> None:
    """Draw `text` in white with a black shadow at (x, y) (top-left), clipped to the image."""
    mask = _text_mask(text, scale)
    for dx, dy, colour in ((1, 1, (0, 0, 0)), (0, 0, (255, 255, 255))):
        region = image[y + dy : y + dy + mask.shape[0], x + dx : x + dx + mask.shape[1]]
        region[mask[: region.shape[0], : region.shape[1]]] = colour
