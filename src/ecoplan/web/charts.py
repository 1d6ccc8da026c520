"""Chart data for the pages: plotly figures (drawn by the offline plotly.js) and the district
tile map, a schematic grid of the 16 districts and 经开区 in roughly their real positions
(it needs no boundary data, so the demo runs anywhere; a boundary map comes with ``geo``)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ecoplan.supervision.dashboard import Tally

COLORS = {"green": "#2e9e5b", "yellow": "#e0a800", "red": "#d64541"}
LABELS = {"green": "绿(正常)", "yellow": "黄(临近/退回/滞后)", "red": "红(逾期)"}
# (row, column) of each district unit code on a 5 × 5 grid, north at the top.
TILES = {
    "110119": (0, 1), "110116": (0, 2), "110118": (0, 3),
    "110114": (1, 1), "110113": (1, 2), "110117": (1, 3),
    "110109": (2, 0), "110108": (2, 1), "110105": (2, 3), "110112": (2, 4),
    "110107": (3, 0), "110102": (3, 1), "110101": (3, 2), "bda": (4, 3),
    "110111": (4, 0), "110106": (4, 1), "110115": (4, 2),
}  # fmt: skip
SHORT_NAMES = {"bda": "经开区"}
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 10, "b": 30}, "height": 300,
           "font": {"family": "WenQuanYi Zen Hei, sans-serif"}, "barmode": "stack",
           "legend": {"orientation": "h"}}  # fmt: skip


def _figure(fig: go.Figure) -> dict[str, Any]:
    data: dict[str, Any] = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}


def lights_by_group(tallies: list[Tally]) -> dict[str, Any]:
    """Horizontal stacked bars: long Chinese group names stay readable."""
    labels = [t.label[:16] for t in tallies]
    layout = _LAYOUT | {"yaxis": {"autorange": "reversed", "automargin": True}}
    fig = go.Figure(layout=layout)
    for light in ("green", "yellow", "red"):
        fig.add_bar(name=LABELS[light], y=labels, x=[t.lights[light] for t in tallies],
                    orientation="h", marker_color=COLORS[light])  # fmt: skip
    return _figure(fig)


def trend(rows: list[dict[str, Any]]) -> dict[str, Any]:
    x = [r["label"] for r in rows]
    fig = go.Figure(layout=_LAYOUT | {"barmode": "group"})
    fig.add_bar(name="已报送", x=x, y=[r["filed"] for r in rows], marker_color="#4a78b5")
    fig.add_bar(name="已通过", x=x, y=[r["accepted"] for r in rows], marker_color=COLORS["green"])
    fig.add_scatter(name="曾被退回", x=x, y=[r["returned"] for r in rows], mode="lines+markers",
                    line={"color": COLORS["yellow"]})  # fmt: skip
    fig.add_scatter(name="报告滞后", x=x, y=[r["late"] for r in rows], mode="lines+markers",
                    line={"color": COLORS["red"]})  # fmt: skip
    return _figure(fig)


def district_tiles(tallies: list[Tally]) -> list[dict[str, Any]]:
    """One tile per district: grid position, name, light and counts."""
    tiles: list[dict[str, Any]] = []
    for tally in tallies:
        row, col = TILES.get(tally.key, (5, len(tiles) % 5))
        tiles.append({"row": row + 1, "col": col + 1, "name": SHORT_NAMES.get(tally.key, tally.label.replace("政府", "")),
                      "light": tally.light, "red": tally.lights["red"],
                      "yellow": tally.lights["yellow"], "shares": tally.shares,
                      "closed": tally.closed})  # fmt: skip
    return tiles
