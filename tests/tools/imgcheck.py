#!/usr/bin/env python3
"""imgcheck.py - exact pixel checks on screenshots for moat's end-to-end tests.

Runs in the test harness (root, outside every moat process); it trusts
nothing but the image files the test itself produced. Python 3 standard
library only. Reads binary PPM (P6) and PNG (8/16-bit grey, RGB, palette,
grey+alpha, RGBA; not interlaced); alpha is dropped, never blended, because
screenshots of an X display are opaque.

  imgcheck.py size FILE                      -> "W H"
  imgcheck.py count FILE COLOUR [--rect X Y W H]
                                             -> number of pixels exactly COLOUR
  imgcheck.py pixel FILE X Y                 -> "#rrggbb"
  imgcheck.py bbox FILE COLOUR               -> "X Y W H" of the colour's bounding
                                                box (exit 1 when absent)
  imgcheck.py top FILE [N]                   -> the N most common colours, "#rrggbb COUNT"
  imgcheck.py diff A B [--tolerance T] [--rect X Y W H]
                                             -> number of pixels whose channels differ
                                                by more than T (default 0)
  imgcheck.py make W H BG [--rect X Y W H COLOUR]... -o OUT.ppm
                                             -> writes a P6 image: BG with the
                                                rectangles painted in order

COLOUR is "#rrggbb" or "rrggbb". Exit status: 0 answered, 1 "bbox" found
nothing, 2 usage or unreadable image.
"""

import struct
import sys
import zlib

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = 64 * 1024 * 1024


class ImageError(Exception):
    """An image file that cannot be read, or a bad argument."""


class Image:
    """An RGB image: width, height and 3 bytes per pixel, rows top to bottom."""

    def __init__(self, width, height, rgb):
        if len(rgb) != width * height * 3:
            raise ImageError("pixel data size does not match %dx%d" % (width, height))
        self.width = width
        self.height = height
        self.rgb = rgb

    def row(self, y, x=0, w=None):
        """Bytes of row y from column x, w pixels (to the end when None)."""
        if w is None:
            w = self.width - x
        start = (y * self.width + x) * 3
        return self.rgb[start:start + w * 3]

    def crop(self, x, y, w, h):
        """The rectangle as a new Image; it must lie inside this one."""
        if x < 0 or y < 0 or w < 0 or h < 0 or x + w > self.width or y + h > self.height:
            raise ImageError("rectangle %d,%d %dx%d is outside the %dx%d image"
                             % (x, y, w, h, self.width, self.height))
        return Image(w, h, b"".join(self.row(yy, x, w) for yy in range(y, y + h)))


def parse_colour(text):
    """'#rrggbb' or 'rrggbb' as an (r, g, b) tuple."""
    s = text[1:] if text.startswith("#") else text
    if len(s) != 6:
        raise ImageError("colour %r is not #rrggbb" % text)
    try:
        return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        raise ImageError("colour %r is not #rrggbb" % text) from None


def format_colour(rgb):
    return "#%02x%02x%02x" % tuple(rgb)


# ---- PPM -------------------------------------------------------------------

def read_ppm(data):
    """Binary PPM (P6), maxval 1..65535."""
    fields = []
    pos = 2
    while len(fields) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if pos < len(data) and data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and data[pos:pos + 1].isdigit():
            pos += 1
        if start == pos:
            raise ImageError("bad PPM header")
        fields.append(int(data[start:pos]))
    pos += 1  # the single whitespace byte before the raster
    width, height, maxval = fields
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS or not 0 < maxval < 65536:
        raise ImageError("unsupported PPM %dx%d maxval %d" % (width, height, maxval))
    if maxval < 256:
        raster = data[pos:pos + width * height * 3]
        if len(raster) != width * height * 3:
            raise ImageError("PPM raster is cut short")
        if maxval != 255:
            raster = bytes((v * 255 + maxval // 2) // maxval for v in raster)
        return Image(width, height, bytes(raster))
    raster = data[pos:pos + width * height * 6]
    if len(raster) != width * height * 6:
        raise ImageError("PPM raster is cut short")
    vals = struct.unpack(">%dH" % (width * height * 3), raster)
    return Image(width, height, bytes((v * 255 + maxval // 2) // maxval for v in vals))


def write_ppm(path, img):
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (img.width, img.height))
        f.write(img.rgb)


# ---- PNG -------------------------------------------------------------------

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _unfilter(raw, height, stride, bpp):
    """Undoes the PNG row filters; returns the rows concatenated."""
    out = bytearray(height * stride)
    prior = bytes(stride)
    pos = 0
    for y in range(height):
        if pos + 1 + stride > len(raw):
            raise ImageError("PNG data is cut short")
        ftype = raw[pos]
        row = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if ftype == 0:
            pass
        elif ftype == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 255
        elif ftype == 2:
            row = bytearray((a + b) & 255 for a, b in zip(row, prior))
        elif ftype == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + prior[i]) >> 1)) & 255
        elif ftype == 4:
            for i in range(stride):
                if i >= bpp:
                    a = row[i - bpp]
                    c = prior[i - bpp]
                else:
                    a = c = 0
                b = prior[i]
                p = a + b - c
                pa = abs(p - a)
                pb = abs(p - b)
                pc = abs(p - c)
                if pa <= pb and pa <= pc:
                    pred = a
                elif pb <= pc:
                    pred = b
                else:
                    pred = c
                row[i] = (row[i] + pred) & 255
        else:
            raise ImageError("bad PNG filter type %d" % ftype)
        out[y * stride:(y + 1) * stride] = row
        prior = row
    return out


def read_png(data):
    pos = len(PNG_MAGIC)
    ihdr = None
    palette = None
    idat = []
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ImageError("PNG chunk %r is cut short" % ctype)
        pos += 12 + length
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            palette = body
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if ihdr is None or not idat:
        raise ImageError("PNG has no IHDR or no IDAT")
    width, height, depth, ctype, _comp, _filt, interlace = ihdr
    if ctype not in CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise ImageError("unsupported PNG colour type %d depth %d" % (ctype, depth))
    if interlace:
        raise ImageError("interlaced PNG is not supported")
    if width == 0 or height == 0 or width * height > MAX_PIXELS:
        raise ImageError("unsupported PNG size %dx%d" % (width, height))
    chans = CHANNELS[ctype]
    bits = chans * depth
    stride = (width * bits + 7) // 8
    bpp = max(1, bits // 8)
    raw = zlib.decompress(b"".join(idat))
    pix = _unfilter(raw, height, stride, bpp)

    if depth == 16:
        # Scale to 8 bits as ImageMagick does when it writes an 8-bit PPM.
        vals = struct.unpack(">%dH" % (len(pix) // 2), pix)
        pix = bytes(v * 255 // 65535 for v in vals)
        depth = 8
    if depth < 8:
        # Unpack sub-byte samples (grey or palette, one channel).
        per = 8 // depth
        mask = (1 << depth) - 1
        samples = bytearray(width * height)
        k = 0
        for y in range(height):
            rowb = pix[y * stride:(y + 1) * stride]
            for x in range(width):
                byte = rowb[x // per]
                shift = 8 - depth * (x % per + 1)
                samples[k] = (byte >> shift) & mask
                k += 1
        if ctype == 0:
            scale = 255 // mask
            samples = bytes(v * scale for v in samples)
        pix = samples

    n = width * height
    if ctype == 2:
        rgb = bytes(pix)
    elif ctype == 6:
        rgb = bytearray(n * 3)
        rgb[0::3] = pix[0::4]
        rgb[1::3] = pix[1::4]
        rgb[2::3] = pix[2::4]
    elif ctype in (0, 4):
        grey = pix[0::chans] if chans > 1 else pix
        rgb = bytearray(n * 3)
        rgb[0::3] = grey
        rgb[1::3] = grey
        rgb[2::3] = grey
    else:  # palette
        if palette is None:
            raise ImageError("palette PNG without PLTE")
        entries = len(palette) // 3
        if max(pix) >= entries:
            raise ImageError("PNG palette index out of range")
        table = [bytearray(palette[3 * i:3 * i + 3]) for i in range(256)]
        rgb = bytearray(n * 3)
        for plane in range(3):
            tr = bytes(t[plane] if t else 0 for t in table)
            rgb[plane::3] = bytes(pix).translate(tr)
    return Image(width, height, bytes(rgb))


def load(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ImageError("cannot read %s: %s" % (path, e.strerror)) from None
    try:
        if data.startswith(PNG_MAGIC):
            return read_png(data)
        if data.startswith(b"P6"):
            return read_ppm(data)
    except (zlib.error, struct.error) as e:
        raise ImageError("%s: %s" % (path, e)) from None
    raise ImageError("%s is neither a PNG nor a binary PPM" % path)


# ---- queries ---------------------------------------------------------------

def match_mask(img, colour):
    """An int with one byte per pixel (big-endian order): 1 where the pixel is colour."""
    n = img.width * img.height
    acc = (1 << (8 * n)) - 1
    for plane, value in enumerate(colour):
        table = bytes(1 if i == value else 0 for i in range(256))
        acc &= int.from_bytes(img.rgb[plane::3].translate(table), "big")
    return acc


def count(img, colour):
    return match_mask(img, colour).bit_count()


def bbox(img, colour):
    """(x, y, w, h) of the pixels that are colour, or None."""
    n = img.width * img.height
    flags = match_mask(img, colour).to_bytes(n, "big")
    first = flags.find(1)
    if first < 0:
        return None
    last = flags.rfind(1)
    w = img.width
    y0, y1 = first // w, last // w
    x0, x1 = w, -1
    for y in range(y0, y1 + 1):
        row = flags[y * w:(y + 1) * w]
        a = row.find(1)
        if a >= 0:
            x0 = min(x0, a)
            x1 = max(x1, row.rfind(1))
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def top(img, limit):
    counts = {}
    rgb = img.rgb
    for i in range(0, len(rgb), 3):
        key = rgb[i:i + 3]
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def diff(a, b, tolerance):
    if (a.width, a.height) != (b.width, b.height):
        raise ImageError("sizes differ: %dx%d and %dx%d"
                         % (a.width, a.height, b.width, b.height))
    differing = 0
    for y in range(a.height):
        ra = a.row(y)
        rb = b.row(y)
        if ra == rb:
            continue
        for i in range(0, len(ra), 3):
            if ra[i:i + 3] == rb[i:i + 3]:
                continue
            if (abs(ra[i] - rb[i]) > tolerance or abs(ra[i + 1] - rb[i + 1]) > tolerance
                    or abs(ra[i + 2] - rb[i + 2]) > tolerance):
                differing += 1
    return differing


def make(width, height, background, rects):
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise ImageError("bad size %dx%d" % (width, height))
    rgb = bytearray(bytes(background) * (width * height))
    for x, y, w, h, colour in rects:
        if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > width or y + h > height:
            raise ImageError("rectangle %d,%d %dx%d is outside %dx%d" % (x, y, w, h, width, height))
        line = bytes(colour) * w
        for yy in range(y, y + h):
            start = (yy * width + x) * 3
            rgb[start:start + w * 3] = line
    return Image(width, height, bytes(rgb))


# ---- command line ----------------------------------------------------------

def _ints(args, what):
    try:
        return [int(a) for a in args]
    except ValueError:
        raise ImageError("%s must be integers, got %s" % (what, " ".join(args))) from None


def _take_rect(args):
    """Removes '--rect X Y W H' from args; returns the tuple or None."""
    if "--rect" not in args:
        return None
    i = args.index("--rect")
    vals = args[i + 1:i + 5]
    if len(vals) != 4:
        raise ImageError("--rect needs X Y W H")
    del args[i:i + 5]
    return tuple(_ints(vals, "--rect"))


def main(argv):
    if len(argv) < 2:
        raise ImageError("usage: see the comment at the top of imgcheck.py")
    cmd, args = argv[1], list(argv[2:])
    if cmd == "size" and len(args) == 1:
        img = load(args[0])
        print(img.width, img.height)
    elif cmd == "count":
        rect = _take_rect(args)
        if len(args) != 2:
            raise ImageError("usage: count FILE COLOUR [--rect X Y W H]")
        img = load(args[0])
        if rect:
            img = img.crop(*rect)
        print(count(img, parse_colour(args[1])))
    elif cmd == "pixel" and len(args) == 3:
        img = load(args[0])
        x, y = _ints(args[1:], "X Y")
        if not (0 <= x < img.width and 0 <= y < img.height):
            raise ImageError("pixel %d,%d is outside %dx%d" % (x, y, img.width, img.height))
        i = (y * img.width + x) * 3
        print(format_colour(img.rgb[i:i + 3]))
    elif cmd == "bbox" and len(args) == 2:
        box = bbox(load(args[0]), parse_colour(args[1]))
        if box is None:
            print("none")
            return 1
        print(*box)
    elif cmd == "top" and len(args) in (1, 2):
        limit = _ints(args[1:], "N")[0] if len(args) == 2 else 10
        for colour, n in top(load(args[0]), limit):
            print(format_colour(colour), n)
    elif cmd == "diff" and len(args) >= 2:
        rect = _take_rect(args)
        tolerance = 0
        if "--tolerance" in args:
            i = args.index("--tolerance")
            tolerance = _ints(args[i + 1:i + 2], "--tolerance")[0]
            del args[i:i + 2]
        if len(args) != 2:
            raise ImageError("usage: diff A B [--tolerance T] [--rect X Y W H]")
        a, b = load(args[0]), load(args[1])
        if rect:
            a, b = a.crop(*rect), b.crop(*rect)
        print(diff(a, b, tolerance))
    elif cmd == "make" and len(args) >= 5:
        if "-o" not in args:
            raise ImageError("make needs -o OUT.ppm")
        i = args.index("-o")
        out = args[i + 1] if i + 1 < len(args) else None
        del args[i:i + 2]
        if not out:
            raise ImageError("make needs -o OUT.ppm")
        width, height = _ints(args[0:2], "W H")
        background = parse_colour(args[2])
        rects = []
        rest = args[3:]
        while rest:
            if rest[0] != "--rect" or len(rest) < 6:
                raise ImageError("make: expected --rect X Y W H COLOUR, got %s" % " ".join(rest))
            x, y, w, h = _ints(rest[1:5], "--rect")
            rects.append((x, y, w, h, parse_colour(rest[5])))
            rest = rest[6:]
        write_ppm(out, make(width, height, background, rects))
    else:
        raise ImageError("unknown command or wrong arguments: %s" % " ".join(argv[1:]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ImageError as e:
        print("imgcheck: %s" % e, file=sys.stderr)
        sys.exit(2)
