"""The chart of the published snapshot: each segment's revenue by company, as an SVG file.

Written by this module with the standard library: an SVG is text, opens in any browser, and
costs nothing to import (a plotting library's import cost more than the chart itself:
benchmarks/RESULTS.md).
"""

import base64
import math
from html import escape
from pathlib import Path

import dagster as dg

from orchestration.snapshots import CHART_FILE

SEGMENT_REVENUE_SQL = """
select segment_name_en, company_name_en, revenue_cny_bn
from marts.segment_rankings
join marts.segments using (segment_id)
join marts.companies using (company_id)
where period_label = ? order by sort_order, revenue_cny_bn desc
"""

# A bar per company and segment, companies told apart by colour (the ten of a common palette,
# in the order of the companies' names).
COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
BAR, BAR_GAP, GROUP_GAP = 38, 10, 36  # pixels
TOP, BOTTOM, PLOT_WIDTH = 56, 64, 760


def text_width(text: str, size: float) -> float:
    """About how wide `text` is set at `size` px (a sans-serif's average glyph: 0.6 em)."""
    return 0.6 * size * len(text)


def nice_step(largest: float, ticks: int = 8) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` ticks."""
    rough = max(largest, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)


def tick_label(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0")


def render_segment_revenue(
    rows: list[tuple[str, str, float]], period: str, build_id: str = ""
) -> str:
    """A grouped horizontal bar chart: each segment's revenue by company, as SVG text; the
    build's id is the root element's `data-build-id`."""
    segments = list(dict.fromkeys(segment for segment, _, _ in rows))
    companies = sorted({company for _, company, _ in rows})
    colours = {c: COLOURS[i % len(COLOURS)] for i, c in enumerate(companies)}
    largest = max([value for _, _, value in rows] + [0.0])
    step = nice_step(largest)
    axis_end = step * math.ceil(largest * 1.04 / step) if largest > 0 else step
    left = 24 + max(text_width(segment, 13) for segment in segments)
    height = TOP + BOTTOM + len(rows) * (BAR + BAR_GAP) + (len(segments) - 1) * GROUP_GAP
    # the legend: a swatch and the longest company name, right of the plot
    width = left + PLOT_WIDTH + 40 + 30 + max(text_width(c, 11) for c in companies) + 20

    def x(value: float) -> float:
        return left + PLOT_WIDTH * value / axis_end

    bottom = height - BOTTOM
    title = f"Segment revenue by company, {period} (stated figures)"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" font-family="{FONT}" '
        f'data-build-id="{escape(build_id)}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width:.0f}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left + PLOT_WIDTH / 2:.1f}" y="30" font-size="16" '
        f'text-anchor="middle">{escape(title)}</text>',
    ]
    tick = 0.0
    while tick <= axis_end + step / 1000:
        at = x(tick)
        out.append(
            f'<line x1="{at:.1f}" y1="{TOP - 8}" x2="{at:.1f}" y2="{bottom}" stroke="#e6e6e6"/>'
            f'<line x1="{at:.1f}" y1="{bottom}" x2="{at:.1f}" y2="{bottom + 5}" stroke="#000"/>'
            f'<text x="{at:.1f}" y="{bottom + 20}" font-size="12" '
            f'text-anchor="middle">{tick_label(tick)}</text>'
        )
        tick += step
    y = TOP
    for segment in segments:
        bars = [(company, value) for s, company, value in rows if s == segment]
        middle = y + (len(bars) * (BAR + BAR_GAP) - BAR_GAP) / 2
        out.append(
            f'<text x="{left - 10:.1f}" y="{middle + 4.5:.1f}" font-size="13" '
            f'text-anchor="end">{escape(segment)}</text>'
        )
        for company, value in bars:
            length = max(x(value) - left, 0.0)  # SVG draws no negative width
            out.append(
                f'<rect x="{left:.1f}" y="{y}" width="{length:.1f}" height="{BAR}" '
                f'fill="{colours[company]}"><title>{escape(company)}, {escape(segment)}: '
                f"{value:,.1f} bn CNY</title></rect>"
                f'<text x="{x(value) + 4:.1f}" y="{y + BAR / 2 + 4:.1f}" '
                f'font-size="11">{value:,.1f}</text>'
            )
            y += BAR + BAR_GAP
        y += GROUP_GAP
    out.append(
        f'<line x1="{left:.1f}" y1="{TOP - 8}" x2="{left:.1f}" y2="{bottom}" stroke="#000"/>'
        f'<line x1="{left:.1f}" y1="{bottom}" x2="{x(axis_end):.1f}" y2="{bottom}" '
        'stroke="#000"/>'
        f'<text x="{left + PLOT_WIDTH / 2:.1f}" y="{bottom + 44}" font-size="13" '
        f'text-anchor="middle">Revenue, CNY bn ({escape(period)})</text>'
    )
    legend = x(axis_end) + 40
    for i, company in enumerate(companies):
        top = TOP + i * 20
        out.append(
            f'<rect x="{legend:.1f}" y="{top}" width="22" height="10" '
            f'fill="{colours[company]}"/><text x="{legend + 30:.1f}" y="{top + 9}" '
            f'font-size="11">{escape(company)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def latest_segment_revenue(conn) -> tuple[str | None, list[tuple[str, str, float]]]:
    """The latest year with segment rankings, and its (segment, company, revenue) rows."""
    latest = conn.execute(
        "select max(period_label) from marts.segment_rankings where period_type = 'year'"
    ).fetchone()[0]
    return latest, conn.execute(SEGMENT_REVENUE_SQL, [latest]).fetchall() if latest else []


def write_chart(conn, folder: Path, build_id: str) -> dict:
    """The latest year's whole-segment revenue by company, as an SVG in the build folder."""
    latest, rows = latest_segment_revenue(conn)
    if not rows:
        return {"rows": 0}
    svg = render_segment_revenue(rows, latest, build_id)
    (folder / CHART_FILE).write_text(svg, encoding="utf-8")
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return {
        "chart": dg.MetadataValue.md(
            f"![Segment revenue by company](data:image/svg+xml;base64,{encoded})"
        ),
        "period": latest,
        "rows": len(rows),
    }
