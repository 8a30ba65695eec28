"""A small SVG canvas: the report's figures drawn as text, without a plotting library.

Every piece of text is measured when it is placed, from a font metric shipped here (the
advance widths of DejaVu Sans, the font the figures ask for first, scaled up by ``_SLACK``
so that a wider fallback font still fits), and recorded with its role (``tick``,
``annotation``, ``legend``, ``title``, ``label``) and its box. Layout uses those widths, and
the tests check from the same boxes that no two labels of one role overlap and that no
text is smaller than 9 pt. A figure is shown at its own size (``width`` x ``height`` CSS
pixels, 96 per inch), so a font size in pixels is ``pt * 96 / 72``.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PT", "Canvas", "SvgFigure", "text_width"]

PT = 96 / 72  # CSS pixels per point
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
_SLACK = 1.08
# Advance widths of ASCII 32..126 in DejaVu Sans, thousandths of an em.
_WIDTHS = [318, 400, 470, 840, 640, 960, 780, 280, 390, 390, 500, 850, 320, 360, 320, 340,
           640, 640, 640, 640, 640, 640, 640, 640, 640, 640, 340, 340, 840, 850, 840, 530,
           1000, 680, 690, 700, 770, 630, 580, 780, 750, 290, 290, 650, 560, 860, 750, 790,
           600, 790, 700, 640, 620, 730, 680, 990, 690, 610, 680, 390, 340, 390, 840, 500,
           500, 620, 630, 560, 640, 620, 350, 640, 630, 280, 280, 580, 280, 970, 630, 610,
           630, 640, 420, 520, 390, 630, 590, 820, 590, 590, 520, 630, 340, 640, 840]


def text_width(text: str, size: float) -> float:
    """The width in pixels of ``text`` at ``size`` pixels (other characters as ``M``-wide)."""
    em = sum(_WIDTHS[ord(c) - 32] if 32 <= ord(c) < 127 else 860 for c in text)
    return em / 1000 * size * _SLACK


@dataclass(frozen=True)
class Box:
    """A drawn text's role, content, font size (points) and box (x0, y0, x1, y1) in pixels."""

    role: str
    text: str
    points: float
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return (self.x0 < other.x1 and other.x0 < self.x1
                and self.y0 < other.y1 and other.y0 < self.y1)


@dataclass
class Canvas:
    width: float
    height: float
    parts: list[str] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, points: float = 9, *, role: str = "label",
             anchor: str = "start", vertical: bool = False, colour: str = "#222",
             bold: bool = False, title: str = "") -> float:
        """Text with its baseline at ``y`` (``vertical``: read upwards, its end at ``y``);
        returns its width."""
        size = points * PT
        width = text_width(text, size)
        shift = {"start": 0.0, "middle": width / 2, "end": width}[anchor]
        if vertical:  # rotated -90 degrees about (x, y): runs upwards from y
            box = Box(role, text, points, x - size * 0.8, y - width + shift, x + size * 0.25,
                      y + shift)
            transform = f' transform="rotate(-90 {x:.1f} {y:.1f})"'
        else:
            box = Box(role, text, points, x - shift, y - size * 0.8, x - shift + width,
                      y + size * 0.25)
            transform = ""
        self.boxes.append(box)
        weight = ' font-weight="bold"' if bold else ""
        hover = f"<title>{html.escape(title)}</title>" if title else ""
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:.1f}" '
                          f'text-anchor="{anchor}" fill="{colour}"{weight}{transform}>'
                          f"{hover}{html.escape(text)}</text>")
        return width

    def rect(self, x: float, y: float, w: float, h: float, fill: str, *, stroke: str = "",
             opacity: float = 1.0, title: str = "", dash: str = "") -> None:
        extra = f' stroke="{stroke}"' if stroke else ""
        extra += f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
        extra += f' stroke-dasharray="{dash}"' if dash else ""
        hover = f"<title>{html.escape(title)}</title></rect>" if title else "/>"
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" '
                          f'height="{max(h, 0):.1f}" fill="{fill}"{extra}'
                          + (">" + hover if title else hover))

    def line(self, x0: float, y0: float, x1: float, y1: float, colour: str = "#222",
             width: float = 1.0, dash: str = "") -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                          f'stroke="{colour}" stroke-width="{width:g}"{extra}/>')

    def polyline(self, points: list[tuple[float, float]], colour: str, width: float = 1.5) -> None:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                          f'stroke-width="{width:g}"/>')

    def circle(self, x: float, y: float, r: float, colour: str, title: str = "") -> None:
        hover = f"<title>{html.escape(title)}</title></circle>" if title else "/>"
        self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:g}" fill="{colour}"'
                          + (">" + hover if title else hover))

    def figure(self, name: str, description: str) -> SvgFigure:
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" '
               f'height="{self.height:.0f}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
               f'font-family="{FONT}" role="img" aria-label="{html.escape(description)}">'
               f'<rect width="100%" height="100%" fill="white"/>{"".join(self.parts)}</svg>')
        return SvgFigure(name, svg, self.width, self.height, tuple(self.boxes))


@dataclass(frozen=True)
class SvgFigure:
    """One of a report's figures: an SVG document, shown at ``width`` x ``height`` pixels.

    ``svg`` is the drawing (one self-contained ``<svg>`` element); ``savefig(path)`` writes
    it to a ``.svg`` file, atomically; a notebook shows it inline. ``boxes`` lists every
    drawn text with its role, size in points and extent, which the tests check.
    """

    name: str
    svg: str
    width: float
    height: float
    boxes: tuple[Box, ...] = ()

    def savefig(self, path: str | os.PathLike[str]) -> Path:
        """Write the figure as SVG to ``path`` (which must end in ``.svg``)."""
        from .._errors import ArgumentError
        from .._io import atomic_path

        target = Path(path)
        if target.suffix.lower() != ".svg":
            raise ArgumentError(f"figure {self.name!r}: cannot save as {str(path)!r}: the "
                                "report's figures are SVG; give a path ending in .svg")
        with atomic_path(target, what="figure") as tmp:
            tmp.write_text(self.svg, encoding="utf-8")
        return target

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<SvgFigure {self.name} {self.width:.0f}x{self.height:.0f}px>"
