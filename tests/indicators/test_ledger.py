"""The project ledger (SQLite and PostgreSQL): files of small polygons drawn in code in a local
equal-area CRS around 朝阳区 (so areas are hand arithmetic), converted to WGS84 or another CRS;
areas, 亩 → 公顷, districts, overlap dedupe in the roll-ups, stage changes with role checks, and
every kind of bad input refused whole. The clock is 2024-07-10."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from openpyxl import Workbook
from pyproj import CRS
from sqlalchemy import func, select

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.db import session_scope
from ecoplan.errors import InputFileError, PermissionDenied, ValidationError
from ecoplan.indicators.ledger import change_stage, get_project, import_projects
from ecoplan.indicators.models import Project
from ecoplan.indicators.registry import get_indicator, latest, sync_from_plan, values
from ecoplan.plans.models import Plan

from ..supervision.conftest import World, data_dir, world

__all__ = ["data_dir", "world"]
JULY = dt.date(2024, 7, 10)
# Lambert azimuthal equal-area centred in 朝阳区: a 100 m × 100 m square drawn here is 1 公顷
# on the ground, and stays 1 公顷 (to < 0.01 %) in the ledger's Albers equal-area projection
LOCAL = CRS.from_proj4("+proj=laea +lat_0=39.95 +lon_0=116.48 +ellps=WGS84 +units=m +no_defs")
UTM50 = CRS.from_epsg(32650)  # WGS 84 / UTM zone 50N: metres, declared in a .prj


def square(x: float, y: float, w: float, h: float | None = None) -> shapely.Polygon:
    """A w × h m rectangle whose lower-left corner is (x, y) m from the centre of LOCAL."""
    return shapely.box(x, y, x + w, y + (h if h is not None else w))


def row(code: str, type_: str = "公园", stage: str = "规划", **cells: str) -> dict[str, str]:
    names = {"accepted": "验收日期", "started": "开工日期", "unit": "责任单位", "area": "申报面积",
             "area_unit": "面积单位"}  # fmt: skip
    return {"项目编号": code, "项目名称": f"{code}项目", "项目类型": type_, "阶段": stage,
            **{names[k]: v for k, v in cells.items()}}  # fmt: skip


def geojson(path: Path, features: list[tuple[dict[str, str], Any]], *, drawn: CRS = LOCAL,
            to: CRS | int = 4326) -> Path:  # fmt: skip
    """Features written to GeoJSON in CRS ``to`` (declared only when it is not WGS84, as
    RFC 7946 has it)."""
    frame = gpd.GeoDataFrame([f for f, _ in features], geometry=[g for _, g in features], crs=drawn)
    path.write_text(frame.to_crs(to).to_json(), encoding="utf-8")
    return path


def undeclared_geojson(path: Path, features: list[tuple[dict[str, str], Any]], to: CRS) -> Path:
    """Coordinates in ``to`` written with no CRS member: a reader takes them as lon/lat."""
    frame = gpd.GeoDataFrame([f for f, _ in features], geometry=[g for _, g in features], crs=LOCAL)
    path.write_text(json.dumps(frame.to_crs(to).to_geo_dict()), encoding="utf-8")
    return path


def shapefile_zip(path: Path, features: list[tuple[dict[str, str], Any]], *, to: CRS,
                  prj: bool = True) -> Path:  # fmt: skip
    # DBF field names hold 10 bytes: a shapefile names its fields in English (code, type …)
    english = {"项目编号": "code", "项目名称": "name", "项目类型": "type", "阶段": "stage"}
    rows = [{english.get(k, k): v for k, v in f.items()} for f, _ in features]
    frame = gpd.GeoDataFrame(rows, geometry=[g for _, g in features], crs=LOCAL)
    folder = path.with_suffix("")
    folder.mkdir()
    frame.to_crs(to).to_file(folder / "projects.shp", encoding="utf-8")
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            if prj or part.suffix != ".prj":
                archive.write(part, part.name)
    return path


def _account(session: Any, username: str) -> Account:
    found = session.scalar(select(Account).where(Account.username == username))
    assert found is not None
    return found


def _synced(world: World) -> None:
    with session_scope(world.engine) as session:
        sync_from_plan(session, session.get_one(Plan, world.plan_id), "test")


def test_areas_roll_up_once_and_stages_move_with_roles(world: World, tmp_path: Path) -> None:
    _synced(world)
    ylljj = "ylljj"
    features = [
        (row("P1", "公园", "验收", accepted="2024-05-01", unit=ylljj, area="15", area_unit="亩"),
         square(0, 0, 100)),
        # overlaps P1 on a 50 m × 100 m strip = 0.5 公顷; both accepted in the same file
        (row("P2", "口袋公园", "验收", accepted="2024-06-01", unit=ylljj), square(50, 0, 100)),
        (row("P3", "生态保育小区", "在建", started="2024-03-01", unit=ylljj), square(500, 500, 50)),
        (row("P4", "小微绿地", "验收", accepted="2024-06-15", unit=ylljj, area="0.3"),
         shapely.Point(300, 300)),
    ]  # fmt: skip
    path = geojson(tmp_path / "p.geojson", features)
    with session_scope(world.engine) as session:
        result = import_projects(session, path, actor="test", today=JULY)
        p1, p2, p3, p4 = result.projects
        # 100 m × 100 m = 10 000 m² = 1 公顷; 15 亩 = 15 / 15 = 1 公顷 declared
        assert p1.area_ha == pytest.approx(1.0, rel=1e-4) and p1.declared_area_ha == 1.0
        assert "申报面积 15 亩 = 1.0000 公顷" in p1.notes
        assert p3.area_ha == pytest.approx(0.25, rel=1e-4)  # 50 m × 50 m = 2 500 m²
        assert (p4.area_ha, p4.declared_area_ha, p4.notes[0]) == (
            None,
            0.3,
            "申报面积 0.3 未注明单位,按公顷计",
        )
        assert {p.district_code for p in result.projects} == {"110105"}  # 朝阳区
        assert result.warnings == ["P1 与 P2 重叠 5000 平方米,汇总新增绿地时按并集只计一次"]

        green = get_indicator(session, "2024-new_green_space")
        value = latest(session, green)
        assert value is not None and value.origin == "ledger"
        # union of P1 and P2: 1 + 1 − 0.5 = 1.5 公顷 (the plain sum would say 2.0);
        # P4 is a point and adds its declared 0.3 公顷 → 1.8 公顷
        assert value.value == pytest.approx(1.8, rel=1e-4)
        assert value.details["overlap_ha"] == pytest.approx(0.5, rel=1e-3)
        assert [p["code"] for p in value.details["projects"]] == ["P1", "P2", "P4"]
        chaoyang = latest(session, green, region="110105")
        assert chaoyang is not None and chaoyang.value == value.value
        pocket = latest(session, get_indicator(session, "2024-pocket_parks"))
        assert pocket is not None and pocket.value == 2  # 口袋公园 P2 + 小微绿地 P4
        plots = get_indicator(session, "2024-conservation_plots")
        assert latest(session, plots) is None  # P3 not accepted yet: 无数据, not 0

        with pytest.raises(PermissionDenied, match="本单位"):
            change_stage(session, "P3", "验收", account=_account(session, "chaoyang"), today=JULY)
        change_stage(session, "P3", "验收", account=_account(session, "ylljj"),
                     on=dt.date(2024, 7, 1), today=JULY)  # fmt: skip
        assert [v.value for v in values(session, plots, region="110000")] == [1.0]
        with pytest.raises(PermissionDenied, match="督办协调员"):
            change_stage(session, "P3", "在建", account=_account(session, "ylljj"), note="误操作")
        with pytest.raises(ValidationError, match="须说明原因"):
            change_stage(session, "P3", "在建", account=_account(session, "coord"), today=JULY)
        change_stage(session, "P3", "在建", account=_account(session, "coord"), note="验收材料不全",
                     today=JULY)  # fmt: skip
        assert get_project(session, "P3").accepted_on is None
        # withdrawn: a new value of 0 supersedes, the 1 stays in the history
        assert [v.value for v in values(session, plots, region="110000")] == [0.0, 1.0]
        steps = [(e.before["stage"], e.after["stage"], (e.context or {}).get("note"))
                 for e in audit.entries(session, entity_type="project", entity_id="P3")
                 if e.action == "project.stage"]  # fmt: skip
        assert steps == [("在建", "验收", None), ("验收", "在建", "验收材料不全")]


def test_accepted_green_space_is_not_counted_twice(world: World, tmp_path: Path) -> None:
    _synced(world)
    with session_scope(world.engine) as session:
        import_projects(session, geojson(tmp_path / "a.geojson", [
            (row("A1", "公园", "验收", accepted="2023-09-01"), square(0, 0, 100)),
            (row("A2", "公园", "在建", started="2024-03-01"), square(60, 0, 100)),
        ]), actor="test", today=JULY)  # fmt: skip
        # new land over accepted A1: 30 m × 100 m = 3 000 m² is above the 100 m² / 1 % tolerance
        with pytest.raises(ValidationError, match="与已验收项目 A1“A1项目”重叠 3000 平方米"):
            import_projects(session, geojson(tmp_path / "b.geojson", [
                (row("B1", "城市森林"), square(-70, 0, 100))]), actor="test", today=JULY)  # fmt: skip
        # a 0.5 m sliver along the border (50 m²) is digitising noise: accepted
        import_projects(session, geojson(tmp_path / "c.geojson", [
            (row("C1", "公园"), square(99.5, -200, 100, 300))]), actor="test", today=JULY)  # fmt: skip
        # A2 (imported beside A1 before A1 was accepted) overlaps it by 40 m × 100 m: accepting
        # A2 in 2024 would count land already counted in 2023
        with pytest.raises(ValidationError, match="2023 年已验收项目 A1"):
            change_stage(session, "A2", "验收", account=_account(session, "coord"), today=JULY)
        # a different type (生态保育小区 counts 处, not area) may lie inside a park
        import_projects(session, geojson(tmp_path / "d.geojson", [
            (row("D1", "生态保育小区"), square(10, 10, 20))]), actor="test", today=JULY)  # fmt: skip


def _xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for values_ in [header, *rows]:
        sheet.append(values_)
    book.save(path)
    return path


def test_bad_files_are_refused_whole(world: World, tmp_path: Path) -> None:
    _synced(world)
    good = (row("G1"), square(0, 0, 100))
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])
    shanghai = shapely.box(121.40, 31.20, 121.41, 31.21)
    cases: list[tuple[Path, type[Exception], str]] = [
        (geojson(tmp_path / "bowtie.geojson", [good, (row("X1"), bowtie)]), ValidationError,
         r"第 2 个要素\(X1\): 几何图形无效: Self-intersection"),
        # metres written into a GeoJSON, which means longitude/latitude
        (undeclared_geojson(tmp_path / "metres.geojson", [good], UTM50), ValidationError, "像投影坐标"),
        (shapefile_zip(tmp_path / "noprj.zip", [good], to=UTM50, prj=False), InputFileError,
         "未声明坐标系且坐标不是经纬度"),
        (geojson(tmp_path / "sh.geojson", [(row("X2"), shanghai)], drawn=CRS.from_epsg(4326)),
         ValidationError, "X2.*不在北京市范围内"),
        (geojson(tmp_path / "type.geojson", [(row("X3", "花园"), square(0, 0, 10))]),
         ValidationError, "项目类型“花园”无法识别"),
        (geojson(tmp_path / "date.geojson", [(row("X4", stage="验收"), square(0, 0, 10))]),
         ValidationError, "须填写验收日期"),
        (geojson(tmp_path / "unit.geojson", [(row("X5", area="3", area_unit="英亩"), square(0, 0, 10))]),
         ValidationError, "面积单位“英亩”无法换算"),
        (geojson(tmp_path / "dup.geojson", [good, (row("G1"), square(500, 0, 10))]),
         ValidationError, "项目编号 G1 与第 1 个要素重复"),
        (_xlsx(tmp_path / "wkt.xlsx", ["项目编号", "项目名称", "项目类型", "WKT"],
               [["X6", "坏", "公园", "POLYGON ((116.4 40"]]), ValidationError, "WKT 无法解析"),
    ]  # fmt: skip
    with session_scope(world.engine) as session:
        logged = len(audit.entries(session))
        for path, error, message in cases:
            with pytest.raises(error, match=message):
                import_projects(session, path, actor="test", today=JULY)
        with pytest.raises(ValidationError, match="单位用户只能导入本单位的项目"):
            import_projects(session, geojson(tmp_path / "other.geojson",
                                             [(row("X7", unit="swj"), square(0, 0, 10))]),
                            actor="test", account=_account(session, "ylljj"), today=JULY)  # fmt: skip
        assert session.scalar(select(func.count()).select_from(Project)) == 0
        assert len(audit.entries(session)) == logged

        # a declared projected CRS is reprojected: the 1 公顷 square drawn in LOCAL, written in
        # UTM 50N metres with a .prj, comes back as 1 公顷
        result = import_projects(session, shapefile_zip(tmp_path / "utm.zip", [good], to=UTM50),
                                 actor="test", today=JULY)  # fmt: skip
        assert result.projects[0].area_ha == pytest.approx(1.0, rel=1e-4)
        assert any("转换为 WGS84" in n for n in result.notes)
        # an xlsx with a WKT polygon (any CRS named by the user) and a row with lon/lat
        wkt = geojson(tmp_path / "w.geojson", [good]).read_text()
        polygon = gpd.read_file(wkt).geometry.iloc[0].wkt
        sheet = _xlsx(tmp_path / "rows.xlsx",
                      ["项目编号", "项目名称", "项目类型", "阶段", "验收日期", "WKT", "经度", "纬度"],
                      [["W1", "湿地", "湿地恢复", "验收", dt.date(2024, 5, 1), polygon, None, None],
                       ["W2", "保育", "生态保育小区", "规划", None, None, 116.49, 39.96]])  # fmt: skip
        rows = import_projects(session, sheet, actor="test", today=JULY).projects
        assert [(p.code, p.accepted_on, p.geometry["type"]) for p in rows] == [
            ("W1", dt.date(2024, 5, 1), "Polygon"), ("W2", None, "Point")]  # fmt: skip
