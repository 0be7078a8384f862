"""The published chart as SVG text: every bar, label and company, escaped, scaled to its value."""

from xml.etree import ElementTree

import pytest

from orchestration.chart import nice_step, render_segment_revenue

SVG = "{http://www.w3.org/2000/svg}"
ROWS = [
    ("Games", "Tencent", 197.7),
    ("Games", "B & <Co>", 5.6),
    ("Advertising", "Tencent", 121.4),
    ("Advertising", "Kuaishou", 72.4),
    ("Overseas", "Xiaomi", 153.3),
]


def bars(root) -> dict[str, float]:
    """Each bar's tooltip and its width."""
    return {
        rect.find(f"{SVG}title").text: float(rect.get("width"))
        for rect in root.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None
    }


def test_every_row_is_a_bar_as_long_as_its_value():
    root = ElementTree.fromstring(render_segment_revenue(ROWS, "2024", "20261202T000000Z-abc"))
    assert root.get("data-build-id") == "20261202T000000Z-abc"
    found = bars(root)
    assert list(found) == [f"{c}, {s}: {v:,.1f} bn CNY" for s, c, v in ROWS]
    scale = max(found.values()) / max(value for _, _, value in ROWS)  # one for every bar
    for width, (_, _, value) in zip(found.values(), ROWS, strict=True):
        assert width == pytest.approx(value * scale, abs=0.06)  # written to 0.1 px


def test_labels_segments_and_a_legend_entry_per_company_are_escaped_text():
    svg = render_segment_revenue(ROWS, "2024")
    texts = [t.text for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]
    assert "B & <Co>" in texts and "B &amp; &lt;Co&gt;" in svg
    assert {"Games", "Advertising", "Overseas", "197.7", "5.6"} <= set(texts)
    assert sorted(t for t in texts if t in {"Tencent", "B & <Co>", "Kuaishou", "Xiaomi"}) == [
        "B & <Co>",
        "Kuaishou",
        "Tencent",
        "Xiaomi",
    ]
    assert "Revenue, CNY bn (2024)" in texts


@pytest.mark.parametrize(
    ("largest", "step"), [(197.7, 25), (9.0, 2), (1.0, 0.2), (0.3, 0.05), (1500, 200), (40, 5)]
)
def test_axis_ticks_are_round_numbers(largest, step):
    assert nice_step(largest) == pytest.approx(step)


def test_a_long_name_fits_and_a_negative_value_draws_no_bar():
    name = "A company whose name is very long indeed, Holdings Limited"
    root = ElementTree.fromstring(render_segment_revenue([("Games", name, -1.5)], "2024"))
    legend = next(t for t in root.iter(f"{SVG}text") if t.text == name)
    assert float(root.get("width")) >= float(legend.get("x")) + 0.6 * 11 * len(name)
    assert list(bars(root).values()) == [0.0]  # SVG refuses a negative width
