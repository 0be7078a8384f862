"""The chart of the published snapshot: each segment's revenue by company, as a PNG.

Rendering needs matplotlib, whose import costs more than the chart itself (benchmarks/RESULTS.md).
The dbt step starts importing it in a background thread (`import_in_background`), while this
process only waits for dbt's: the publish step then finds it imported.
"""

import base64
import io
import threading
from pathlib import Path

import dagster as dg

from orchestration.snapshots import CHART_FILE


def _import_matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def import_in_background() -> None:
    """Import matplotlib in a daemon thread; a render that comes first waits for that import."""
    threading.Thread(target=_import_matplotlib, name="import-matplotlib", daemon=True).start()


SEGMENT_REVENUE_SQL = """
select segment_name_en, company_name_en, revenue_cny_bn
from marts.segment_rankings
join marts.segments using (segment_id)
join marts.companies using (company_id)
where period_label = ? order by sort_order, revenue_cny_bn desc
"""


def render_segment_revenue(
    rows: list[tuple[str, str, float]], period: str, build_id: str = ""
) -> bytes:
    """A grouped horizontal bar chart: each segment's revenue by company, as PNG bytes."""
    plt = _import_matplotlib()
    segments = list(dict.fromkeys(segment for segment, _, _ in rows))
    companies = sorted({company for _, company, _ in rows})
    colours = dict(zip(companies, plt.get_cmap("tab10").colors, strict=False))
    figure, axis = plt.subplots(figsize=(10, 1.0 + 0.9 * len(segments) + 0.25 * len(rows)))
    position, ticks = 0.0, []
    seen = set()
    for segment in segments:
        bars = [(c, v) for s, c, v in rows if s == segment]
        start = position
        for company, value in bars:
            axis.barh(
                position, value, color=colours[company], label=None if company in seen else company
            )
            axis.text(value, position, f" {value:,.1f}", va="center", fontsize=8)
            seen.add(company)
            position += 1
        ticks.append(((start + position - 1) / 2, segment))
        position += 0.8
    axis.set_yticks([t for t, _ in ticks], [s for _, s in ticks])
    axis.invert_yaxis()
    axis.set_xlabel(f"Revenue, CNY bn ({period})")
    axis.set_title(f"Segment revenue by company, {period} (stated figures)")
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format="png", dpi=110, metadata={"build_id": build_id} if build_id else None
    )
    plt.close(figure)
    return buffer.getvalue()


def write_chart(conn, folder: Path, build_id: str) -> dict:
    """The latest year's whole-segment revenue by company, as a PNG in the build folder."""
    latest = conn.execute(
        "select max(period_label) from marts.segment_rankings where period_type = 'year'"
    ).fetchone()[0]
    rows = conn.execute(SEGMENT_REVENUE_SQL, [latest]).fetchall() if latest else []
    if not rows:
        return {"rows": 0}
    png = render_segment_revenue(rows, latest, build_id)
    (folder / CHART_FILE).write_bytes(png)
    encoded = base64.b64encode(png).decode("ascii")
    return {
        "chart": dg.MetadataValue.md(
            f"![Segment revenue by company](data:image/png;base64,{encoded})"
        ),
        "period": latest,
        "rows": len(rows),
    }
