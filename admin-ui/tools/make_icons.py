#!/usr/bin/env python3
"""Rasterises static/icon.svg's simple geometry into the PNG icons the web app manifest and
iOS need (192 and 512 px). Standard library only; run from admin-ui/: python3 tools/make_icons.py
Keep the shapes here in step with static/icon.svg."""

import math
import struct
import zlib

BLUE = (0x0B, 0x4F, 0x8A)
GOLD = (0xF5, 0xB4, 0x00)
WHITE = (0xFF, 0xFF, 0xFF)

# Shapes in the 512-unit space of icon.svg, painted in order.
LINES = [((256, 136), (136, 344)), ((256, 136), (376, 344)), ((136, 344), (376, 344))]
LINE_HALF_WIDTH = 14
CIRCLES = [((256, 136), 64, GOLD), ((136, 344), 56, WHITE), ((376, 344), 56, WHITE),
           ((256, 136), 26, BLUE)]
RADIUS = 96


def inside_rounded_square(x, y):
    cx = min(max(x, RADIUS), 512 - RADIUS)
    cy = min(max(y, RADIUS), 512 - RADIUS)
    return (x - cx) ** 2 + (y - cy) ** 2 <= RADIUS ** 2 and 0 <= x <= 512 and 0 <= y <= 512


def near_segment(x, y, a, b, half_width):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    px, py = ax + t * dx, ay + t * dy
    return (x - px) ** 2 + (y - py) ** 2 <= half_width ** 2


def colour_at(x, y):
    """RGBA of one sample point (512-unit coordinates)."""
    if not inside_rounded_square(x, y):
        return (0, 0, 0, 0)
    colour = BLUE
    if any(near_segment(x, y, a, b, LINE_HALF_WIDTH) for a, b in LINES):
        colour = WHITE
    for (cx, cy), r, fill in CIRCLES:
        if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
            colour = fill
    return colour + (255,)


def render(size, samples=4):
    scale = 512 / size
    rows = []
    for py in range(size):
        row = bytearray([0])  # filter type: none
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    x = (px + (sx + 0.5) / samples) * scale
                    y = (py + (sy + 0.5) / samples) * scale
                    r, g, b, a = colour_at(x, y)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            n = samples * samples
            alpha = acc[3] / n
            if acc[3]:
                row += bytes(round(c / acc[3]) for c in acc[:3])
            else:
                row += b"\0\0\0"
            row.append(round(alpha))
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width, height, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    for size in (192, 512):
        with open(f"static/icon-{size}.png", "wb") as out:
            out.write(render(size, samples=4 if size <= 192 else 3))
    print("wrote static/icon-192.png, static/icon-512.png")
