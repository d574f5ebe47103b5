#!/usr/bin/env python3
"""Counts the pixels of given colours in a PNG (8-bit RGB/RGBA, non-interlaced), without third-party modules.

Usage: png_colours.py FILE.png RRGGBB[:MIN] ...   exits 1 when a colour has fewer than MIN pixels (default 200).
Used by scripts/report-check to see that the HTML report's charts were drawn in headless Chromium's screenshot.
"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous, position = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[position], bytearray(raw[position + 1:position + 1 + stride])
        position += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + predictor) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows


def main():
    path, wanted = sys.argv[1], sys.argv[2:]
    width, height, channels, rows = read_png(path)
    targets = {}
    for spec in wanted:
        colour, _, minimum = spec.partition(":")
        targets[tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))] = (colour, int(minimum or 200))
    counts = {key: 0 for key in targets}
    for row in rows:
        for x in range(0, width * channels, channels):
            pixel = (row[x], row[x + 1], row[x + 2])
            if pixel in counts:
                counts[pixel] += 1
    failed = False
    for key, (name, minimum) in targets.items():
        ok = counts[key] >= minimum
        failed |= not ok
        print(f"#{name}: {counts[key]} pixels (need {minimum}) {'ok' if ok else 'MISSING'}")
    print(f"screenshot {width}x{height}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
