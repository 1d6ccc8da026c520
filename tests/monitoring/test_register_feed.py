"""Evidence of the invasive-species, germplasm and station registers on measures 3, 4.2, 4.3, 9
and 10.2: nothing before there are data, then the figures the registers hold (SQLite and
PostgreSQL). The supervision clock is 2024-07-10."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecoplan import db
from ecoplan.accounting.feed import Evidence
from ecoplan.config import get_settings
from ecoplan.monitoring.germplasm import import_accessions, seed_repositories
from ecoplan.monitoring.invasive import import_records
from ecoplan.monitoring.invasive_control import add_control
from ecoplan.monitoring.invasive_exchange import import_exchange_csv
from ecoplan.monitoring.register_feed import providers
from ecoplan.monitoring.stations import add_station, import_series
from tests.monitoring.invasive_fixtures import HAIDIAN, MENTOUGOU, TODAY, iworld, row, sheet
from tests.monitoring.test_invasive_exchange import partner_file

__all__ = ["iworld"]
KINDS = ["invasive", "joint_control", "germplasm_collection", "germplasm_report", "station"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOPLAN_TODAY", TODAY.isoformat())
    get_settings.cache_clear()


def _evidence(engine: Engine) -> dict[str, Evidence | None]:
    with db.session_scope(engine) as session:
        return {kind: providers()[kind](session) for kind in KINDS}


def test_registers_feed_their_measures(iworld: Engine, clock: None, tmp_path: Path) -> None:
    before = _evidence(iworld)
    # no data: no evidence rather than zeros, except the 600 accessions: a target with nothing
    # collected by July is itself news for the supervisor
    assert {k: v for k, v in before.items() if v is not None}.keys() == {"germplasm_collection"}
    with db.session_scope(iworld) as session:
        import_records(session, sheet(tmp_path / "r.csv", [
            row("w1", "美国白蛾", "nest_trees", "2024-06-02", "3", at=HAIDIAN, township="西北旺镇"),
            row("p1", "松材线虫", "positive_sample", "2024-05-20", "1", at=MENTOUGOU),
            row("f1", "福寿螺", "egg_masses", "2024-06-05", "0", at=HAIDIAN),
        ]), actor="t", today=TODAY)  # fmt: skip
        add_control(session, species_key="hyphantria_cunea", done_on=dt.date(2024, 6, 10),
                    method="物理", detail="剪网幕", area=30, area_unit="亩", lon=HAIDIAN[0], lat=HAIDIAN[1],
                    actor="t", today=TODAY)  # fmt: skip
        import_exchange_csv(session, partner_file(tmp_path / "tj.csv", [{"record_id": "TJ-1"}]),
                            actor="t", province="天津", today=TODAY)  # fmt: skip
        seed_repositories(session, actor="t")
        accessions = tmp_path / "acc.csv"
        accessions.write_text(
            "种质编号,资源类别,中文名,材料类型,数量,采集日期,保存库,保存单位,状态\n"
            + "".join(f"LC-{i:04d},林草,油松,种子,10,2024-0{1 + i % 6}-05,GJLMK-1,ylljj,入库\n"
                      for i in range(30))
            + "NZ-0001,农作物,玉米,种子,100,2024-04-01,,nyncj,入库\n", encoding="utf-8")  # fmt: skip
        import_accessions(session, accessions, actor="t", today=TODAY)
        add_station(session, code="MY-1", name="密云水库国家生态质量综合监测站", actor="t",
                    lon=116.98, lat=40.50)  # fmt: skip
        series = tmp_path / "s.csv"
        series.write_text("时间,水温(℃)\n" + "".join(
            f"2024-06-01 {h:02d}:00,{20 + h / 10}\n" for h in range(6)), encoding="utf-8")  # fmt: skip
        import_series(session, series, station_code="MY-1", actor="t")
    found = _evidence(iworld)

    invasive = found["invasive"]
    assert invasive is not None
    # records in 2024: 美国白蛾, 松材线虫, 福寿螺 (a zero count is still monitoring) → 3 of 6;
    # positives: the 3 nests and the lab positive = 2 (the Tianjin record is not Beijing's)
    assert invasive.lines[0].startswith("2024 年重点外来入侵物种 3/6 种有监测记录")
    assert "苹果蠹蛾" in invasive.lines[0] and "牛蛙" in invasive.lines[0]
    # 30 亩 ÷ 15 = 2 公顷
    assert "阳性记录 2 条" in invasive.lines[1] and "防治 1 次、2.00 公顷" in invasive.lines[1]
    assert invasive.lines[2] == "外来物种引入审批: 本年无申请"
    moth = next(r for r in invasive.table if r["name"] == "美国白蛾")
    assert (moth["positives"], moth["districts"], moth["area"]) == (1, "海淀区", 2.0)

    joint = found["joint_control"]
    assert joint is not None
    assert {r["name"]: r["positives"] for r in joint.table} == {"松材线虫": 1, "美国白蛾": 1}
    assert joint.lines[1] == "收到周边省市交换记录: 天津 1 条"

    collection = found["germplasm_collection"]
    assert collection is not None
    # 30 林草 accessions of the 600 in germplasm.toml (no plan loaded) = 5.0 %; by 10 July
    # (day 192 of leap 2024) an even pace asks 600 × 192 / 366 = 314.8 → behind
    assert collection.lines == ["2024 年已收集林草种质资源 30 份,目标 600 份,完成 5.0%,"
                                "按均匀进度应完成 315 份,落后于进度"]  # fmt: skip
    assert collection.met is False and collection.table == [{"unit": "市园林绿化局", "count": 30}]

    report = found["germplasm_report"]
    assert report is not None and report.met is None  # a person says the report is done
    assert {r["category"]: r["count"] for r in report.table}["农作物"] == 1

    station = found["station"]
    assert station is not None
    # 6 hourly water temperatures 20.0 … 20.5 °C, none flagged → 100 % good, no gap
    assert station.table == [{"station": "密云水库国家生态质量综合监测站", "parameters": 1,
                              "values": 6, "good": "100.0%", "gaps": 0}]  # fmt: skip
