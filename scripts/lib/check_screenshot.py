#!/usr/bin/env python3
"""Checks that a PNG screenshot is not blank: enough non-white pixels, and the report's chart blue present.

Usage: check_screenshot.py FILE.png. Standard library only (zlib), so it runs on a fresh Debian with python3.
"""
import struct
import sys
import zlib


def pixels(path):
    """Yields (width, height, channels, rows of bytes) of an 8-bit, non-interlaced PNG."""
    with open(path, "rb") as file:
        data = file.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, color, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {color}, interlace {interlace})")
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows


def main():
    width, height, channels, rows = pixels(sys.argv[1])
    total = width * height
    coloured = blue = 0
    for line in rows:
        for i in range(0, len(line), channels):
            r, g, b = line[i], line[i + 1], line[i + 2]
            if r < 235 or g < 235 or b < 235:
                coloured += 1
            if abs(r - 37) < 40 and abs(g - 99) < 40 and abs(b - 235) < 40:
                blue += 1
    share = coloured / total
    print(f"screenshot {width}x{height}: {share:.1%} non-white pixels, {blue} in the charts' blue")
    if share < 0.03:
        sys.exit("the screenshot is (nearly) blank")
    if blue < 500:
        sys.exit("no chart colour in the screenshot: the SVG charts did not render")


main()
