"""Tiny server-side SVG charts for the dashboard (no JavaScript, no library): stacked bars per day and horizontal
bars with a target line. Every text is escaped here; the result is ``Markup`` for Jinja. Each chart is an
``img`` with ``<title>``/``<desc>``; the page shows the same numbers in a table next to it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_ids = itertools.count(1)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _head(width: int, height: int, title: str, desc: str) -> tuple[str, str]:
    n = next(_ids)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
            f'aria-labelledby="chart-{n}-t chart-{n}-d" preserveAspectRatio="xMinYMin meet">'
            f'<title id="chart-{n}-t">{_e(title)}</title><desc id="chart-{n}-d">{_e(desc)}</desc>')
    return head, "</svg>"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def stacked_bars(title: str, desc: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
                 width: int = 720, height: int = 260) -> Markup:
    """One bar per label, stacked by series (legend below); empty data gives an empty frame with a note."""
    head, tail = _head(width, height, title, desc)
    left, right, top, legend_h = 36, 8, 10, 26 * ((len(series) + 3) // 4)
    bottom = 28 + legend_h
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top_value = _nice_max(max(totals, default=0))
    parts = [head]
    for k in range(5):  # grid and axis numbers
        value = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c9d0d7" '
                     f'stroke-width="1"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#555d66">{value:g}</text>')
    if labels:
        slot = plot_w / len(labels)
        bar_w = max(2.0, min(40.0, slot * 0.7))
        step = max(1, len(labels) // 14)  # at most ~14 axis labels
        for i, label in enumerate(labels):
            x = left + slot * i + (slot - bar_w) / 2
            y = top + plot_h
            for s, (name, values) in enumerate(series):
                value = values[i]
                if not value:
                    continue
                h = plot_h * value / top_value
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[s % len(PALETTE)]}"><title>{_e(label)}: {_e(name)} {value}</title></rect>')
            if i % step == 0:
                parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                             f'font-size="11" fill="#1b1f24">{_e(label)}</text>')
    if not any(totals):
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
                     f'font-size="14" fill="#555d66">Keine Übergaben in diesem Zeitraum</text>')
    for s, (name, _) in enumerate(series):
        lx = left + (s % 4) * (plot_w / 4)
        ly = height - legend_h + 26 * (s // 4) + 8
        parts.append(f'<rect x="{lx:.1f}" y="{ly}" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>'
                     f'<text x="{lx + 17:.1f}" y="{ly + 11}" font-size="12" fill="#1b1f24">{_e(name)}</text>')
    parts.append(tail)
    return Markup("".join(parts))


def hbars(title: str, desc: str, items: Sequence[tuple[str, float | None]], target: float | None = None,
          unit: str = "Min.", width: int = 720) -> Markup:
    """Horizontal bars (a missing value is drawn as "–"), with a dashed target line if given."""
    row_h, left, right, top = 34, 190, 70, 24
    height = top + row_h * len(items) + 12
    plot_w = width - left - right
    top_value = _nice_max(max([v for _, v in items if v is not None] + ([target] if target else []), default=0))
    head, tail = _head(width, height, title, desc)
    parts = [head]
    for i, (label, value) in enumerate(items):
        y = top + row_h * i
        parts.append(f'<text x="{left - 8}" y="{y + 20}" text-anchor="end" font-size="13" fill="#1b1f24">'
                     f'{_e(label)}</text>')
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 20}" font-size="13" fill="#555d66">–</text>')
            continue
        w = plot_w * value / top_value
        parts.append(f'<rect x="{left}" y="{y + 6}" width="{w:.1f}" height="20" fill="{PALETTE[i % len(PALETTE)]}">'
                     f'<title>{_e(label)}: {value:g} {_e(unit)}</title></rect>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 20}" font-size="13" fill="#1b1f24">{value:g} {_e(unit)}</text>')
    if target:
        x = left + plot_w * target / top_value
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{height - 6}" stroke="#a01919" '
                     f'stroke-width="2" stroke-dasharray="6 4"/><text x="{x:.1f}" y="{top - 10}" '
                     f'text-anchor="middle" font-size="12" fill="#a01919">Ziel {target:g} {_e(unit)}</text>')
    parts.append(tail)
    return Markup("".join(parts))
