"""Draw the brand images of the Home Assistant integration.

Home Assistant (2026.3 and later) serves a custom integration's icon and logo from the
integration's own ``brand/`` folder. This script draws them from scratch with Pillow, so the
artwork is ours and can be redrawn at will:

    pip install pillow
    python scripts/make_brand.py

It writes icon.png (256x256), icon@2x.png (512x512), logo.png (height 128), logo@2x.png
(height 256) and the same four with a ``dark_`` prefix (light lines and text, for dark themes)
into custom_components/printer_supplies/brand/.

The artwork is a flat printer whose printed page shows four toner-level bars (cyan, magenta,
yellow, black). Everything is drawn on a 100-unit grid at a high resolution, trimmed to its
visible pixels and scaled down, which gives smooth edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "custom_components" / "printer_supplies" / "brand"

SUPERSAMPLE = 2048  # side of the square drawing canvas, in pixels
ICON_SIDE = 256  # icon.png; icon@2x.png is twice that
LOGO_HEIGHT = 128  # logo.png; logo@2x.png is twice that
SCALES = {"": 1, "@2x": 2}  # file name suffix: size factor
WORDMARK = "Printer Supplies"

# The four toner colours, as bars on the printed page: (colour, level from 0 to 1).
TONERS = [("#00A9E0", 0.80), ("#E6007E", 0.55), ("#FFC107", 0.95), ("#1B1B1B", 0.35)]
PAPER = "#FFFFFF"
CLEAR = (0, 0, 0, 0)

FONT_CANDIDATES = [
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
]


@dataclass(frozen=True)
class Theme:
    prefix: str  # "" for light backgrounds, "dark_" for dark ones
    body: str  # printer body, paper outlines and the wordmark


THEMES = [Theme("", "#37474F"), Theme("dark_", "#CFD8DC")]


def draw_icon(theme: Theme) -> Image.Image:
    """The printer on a transparent square canvas, not yet trimmed."""
    img = Image.new("RGBA", (SUPERSAMPLE, SUPERSAMPLE), CLEAR)
    draw = ImageDraw.Draw(img)  # no blending: CLEAR punches holes
    u = SUPERSAMPLE / 100  # one grid unit

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (x0 * u, y0 * u, x1 * u, y1 * u)

    def sheet(x0: float, y0: float, x1: float, y1: float) -> None:
        """A sheet of paper: a gap around it, an outline in the body colour, a white face."""
        draw.rounded_rectangle(box(x0 - 3, y0 - 3, x1 + 3, y1 + 3), radius=5 * u, fill=CLEAR)
        draw.rounded_rectangle(box(x0, y0, x1, y1), radius=2.5 * u, fill=theme.body)
        draw.rounded_rectangle(box(x0 + 4, y0 + 4, x1 - 4, y1 - 4), radius=1 * u, fill=PAPER)

    # Paper waiting in the input tray, behind the body.
    sheet(24, 4, 76, 40)
    # The body, with a gap that separates it from the paper behind.
    draw.rounded_rectangle(box(2, 27, 98, 75), radius=13 * u, fill=CLEAR)
    draw.rounded_rectangle(box(5, 30, 95, 72), radius=10 * u, fill=theme.body)
    # Output slot, and the printed page coming out of it.
    draw.rounded_rectangle(box(14, 48, 86, 54), radius=3 * u, fill=CLEAR)
    sheet(22, 51, 78, 96)
    # Four toner levels printed on the page.
    left, right, bottom, top = 29, 71, 89, 59
    gap = 2.5
    width = (right - left - gap * (len(TONERS) - 1)) / len(TONERS)
    for i, (colour, level) in enumerate(TONERS):
        x0 = left + i * (width + gap)
        draw.rectangle(box(x0, bottom - (bottom - top) * level, x0 + width, bottom), fill=colour)
    # A status light.
    draw.ellipse(box(82, 36, 88, 42), fill="#4CAF50")
    return img


def trim(img: Image.Image) -> Image.Image:
    """Crop to the visible pixels."""
    bbox = img.getchannel("A").getbbox()
    assert bbox is not None, "nothing drawn"
    return img.crop(bbox)


def scaled(img: Image.Image, width: int, height: int) -> Image.Image:
    """Scale down by averaging: exact anti-aliasing without the halos of sharper filters.

    Pillow resamples RGBA with premultiplied alpha, so transparent edges stay clean.
    """
    return img.resize((width, height), Image.Resampling.BOX)


def square(art: Image.Image, side: int) -> Image.Image:
    """Fit trimmed artwork into a transparent square, touching its longer sides."""
    factor = side / max(art.size)
    w, h = max(1, round(art.width * factor)), max(1, round(art.height * factor))
    out = Image.new("RGBA", (side, side), CLEAR)
    out.alpha_composite(scaled(art, w, h), ((side - w) // 2, (side - h) // 2))
    return out


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def draw_logo(art: Image.Image, theme: Theme) -> Image.Image:
    """The icon and the wordmark side by side, trimmed, at a high resolution."""
    h = LOGO_HEIGHT * 8
    icon_w = round(art.width * h / art.height)
    icon = scaled(art, icon_w, h)
    face = font(round(h * 0.42))
    left, top, right, bottom = face.getbbox(WORDMARK)
    spacing = round(h * 0.16)
    canvas = Image.new("RGBA", (icon_w + spacing + right - left, h), CLEAR)
    canvas.alpha_composite(icon, (0, 0))
    # Centre the wordmark's ink (not its line box) on the icon's height.
    y = (h - (bottom - top)) // 2 - top
    ImageDraw.Draw(canvas).text((icon_w + spacing - left, y), WORDMARK, font=face, fill=theme.body)
    return trim(canvas)


def save(img: Image.Image, name: str) -> None:
    # Fully transparent pixels carry no colour, which compresses better.
    clear = img.getchannel("A").point(lambda a: 255 if a == 0 else 0)
    img = img.copy()
    img.paste(CLEAR, mask=clear)
    path = OUT_DIR / name
    img.save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {img.width}x{img.height}, {path.stat().st_size} bytes")


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for theme in THEMES:
        art = trim(draw_icon(theme))
        wordmark = draw_logo(art, theme)
        # The @2x logo is exactly twice the plain one, so round the plain width first.
        logo_width = round(wordmark.width * LOGO_HEIGHT / wordmark.height)
        for suffix, factor in SCALES.items():
            save(square(art, ICON_SIDE * factor), f"{theme.prefix}icon{suffix}.png")
            size = (logo_width * factor, LOGO_HEIGHT * factor)
            save(scaled(wordmark, *size), f"{theme.prefix}logo{suffix}.png")


if __name__ == "__main__":
    main()
