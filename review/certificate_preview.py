"""The preview of a certificate drawn as SVG by the server (no document renderer in
production): the paper to scale, the text area inside the margins dashed, and the text
where review.certificates lays it out, lines wrapped as the type would wrap them.

The wrapping is an estimate (a Chinese character or full-width mark is one em, anything
else half an em; a line breaks when the next character would not fit), close enough to
show where the text falls on the insert; the .docx is what prints. No style attribute
(the pages' CSP), every text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from review.certificates import HEADING, Certificate, Paper, layout, wrap
from review.charts import escape

BOX_WIDTH, BOX_HEIGHT = 560, 420  # the largest the page is drawn, in px
_PT_MM = 25.4 / 72
INK, FRAME, AREA, DRAFT_INK = "#1f2933", "#8a6d3b", "#9aa5b1", "#c0392b"
FONT = "'楷体_GB2312', KaiTi, STKaiti, 'Noto Serif CJK SC', serif"
TITLE_FONT = "'方正小标宋简体', SimSun, 'Noto Serif CJK SC', serif"


def preview_svg(cert: Certificate, paper: Paper, organiser: str, day: str, heading: bool = True,
                draft: bool = False, made: Sequence[Certificate] = ()) -> str:
    """The certificate `cert` on `paper`, laid out as for the whole set `made` (the size
    that fits them all)."""
    scale = min(BOX_WIDTH / paper.width, BOX_HEIGHT / paper.height)  # px per mm
    width, height = round(paper.width * scale, 1), round(paper.height * scale, 1)
    size = layout(paper, made or (cert,), heading)
    body_px = size.body_pt * _PT_MM * scale
    line_px = size.line_pt * _PT_MM * scale
    left, right, top = paper.left * scale, (paper.width - paper.right) * scale, paper.top * scale
    ems = paper.text_width / (size.body_pt * _PT_MM)
    label = f"证书预览：{cert.salutation}{''.join(cert.body)}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" fill="{INK}">',
             f"<title>{escape(label)}</title>",
             f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#fffdf7" stroke="{FRAME}"/>',
             f'<rect x="{round(left, 1)}" y="{round(top, 1)}" width="{round(right - left, 1)}" '
             f'height="{round(paper.text_height * scale, 1)}" fill="none" stroke="{AREA}" stroke-dasharray="4 3"/>']
    if draft:
        parts.append(f'<text x="{round(width - 8, 1)}" y="18" text-anchor="end" font-size="14" '
                     f'fill="{DRAFT_INK}">草稿</text>')
    y = top
    if heading:
        heading_px = size.heading_pt * _PT_MM * scale
        y += size.heading_line_pt * _PT_MM * scale * 0.8
        parts.append(f'<text x="{round((left + right) / 2, 1)}" y="{round(y, 1)}" text-anchor="middle" '
                     f'font-family="{escape(TITLE_FONT)}" font-size="{round(heading_px, 1)}">{escape(HEADING)}</text>')
        y += size.heading_line_pt * _PT_MM * scale * 0.2 + body_px
    lines: list[tuple[str, float, str]] = []  # (text, x, anchor)
    for text in wrap(cert.salutation, ems):
        lines.append((text, left, "start"))
    for paragraph in cert.body:
        for i, text in enumerate(wrap(paragraph, ems, 2)):
            lines.append((text, left + (2 * body_px if i == 0 else 0), "start"))
    for text, x, anchor in lines:  # a baseline about 0.8 of the line down, as the type sits
        parts.append(_text(text, x, y + line_px * 0.8, anchor, body_px))
        y += line_px
    y += line_px * 2
    for text in (organiser, day):
        parts.append(_text(text, right, y + line_px * 0.8, "end", body_px))
        y += line_px
    parts.append("</svg>")
    return "\n".join(parts)


def _text(text: str, x: float, y: float, anchor: str, size: float) -> str:
    return (f'<text x="{round(x, 1)}" y="{round(y, 1)}" text-anchor="{anchor}" font-family="{escape(FONT)}" '
            f'font-size="{round(size, 1)}">{escape(text)}</text>')
