"""Station time series: import (long and wide, time zones, unit conversion, all or nothing,
re-import), every QC flag on both sides of its threshold, gaps, a person's verdict, reading
and export (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from ecoplan import audit, db
from ecoplan.accounts.service import account_by_username, create_account
from ecoplan.errors import EcoplanError, PermissionDenied, ValidationError
from ecoplan.monitoring import qc
from ecoplan.monitoring.register_models import Station, StationValue
from ecoplan.monitoring.stations import (
    add_station,
    daily_summary,
    export_csv,
    gaps,
    import_series,
    override,
    parse_times,
    qc_summary,
    series,
)
from ecoplan.units.service import sync_builtin

CODE = "MYSK"
UTC = dt.UTC
ACCOUNTS = {  # username -> (role, unit code)
    "admin": ("admin", None),
    "coord": ("coordinator", None),
    "leader": ("leader", None),
    "miyun": ("unit", "110118"),  # 密云区政府 runs the station below
    "haidian": ("unit", "110108"),
}


@pytest.fixture
def station(engine: Engine) -> Engine:
    with db.session_scope(engine) as session:
        sync_builtin(session, actor="test")
        add_station(session, code=CODE, name="密云水库国家生态质量综合监测站", kind="综合监测站",
                    lon=116.98, lat=40.50, unit_code="110118", actor="test")  # fmt: skip
        for username, (role, unit) in ACCOUNTS.items():
            create_account(session, username=username, password="correct-horse-9", role=role,
                           unit_code=unit, actor="test")  # fmt: skip
    return engine


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def load(engine: Engine, path: Path) -> object:
    with db.session_scope(engine) as session:
        return import_series(session, path, station_code=CODE, actor="test")


def stored(engine: Engine, parameter: str) -> list[StationValue]:
    with db.session_scope(engine) as session:
        return list(session.scalars(select(StationValue).where(StationValue.parameter == parameter)
                                    .order_by(StationValue.at)))  # fmt: skip


def hourly(start: str, values: list[str], column: str = "水温(℃)") -> str:
    t0 = dt.datetime.fromisoformat(start)
    lines = [f"时间,{column}"]
    lines += [f"{(t0 + dt.timedelta(hours=i)):%Y-%m-%d %H:%M},{v}" for i, v in enumerate(values)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- import


def test_long_format_times_are_beijing_unless_an_offset_is_given(
    station: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path / "long.csv", (
        "站点,参数,单位,时间,值\n"
        f"{CODE},水温,℃,2024-06-01 08:00,20.5\n"  # naive → Beijing 08:00 = 00:00 UTC
        f"{CODE},水温,℃,2024-06-01T09:00:00+08:00,20.6\n"  # 01:00 UTC
        f"{CODE},水温,°C,2024-06-01T02:00:00Z,20.7\n"  # 02:00 UTC; °C is ℃
        f"{CODE},pH,,2024/6/1 11:00,7.8\n"  # another spelling; pH has no unit
    ))  # fmt: skip
    r = load(station, path)
    assert (r.added, r.updated, r.unchanged, r.missing) == (4, 0, 0, 0)  # type: ignore[attr-defined]
    temps = stored(station, "water_temp")
    assert [v.at for v in temps] == [dt.datetime(2024, 6, 1, h, tzinfo=UTC) for h in (0, 1, 2)]
    assert [v.value for v in temps] == [20.5, 20.6, 20.7]
    assert {v.unit for v in temps} == {"℃"}
    assert stored(station, "ph")[0].at == dt.datetime(2024, 6, 1, 3, tzinfo=UTC)


def test_parse_times_refuses_what_it_cannot_read() -> None:
    out = parse_times(
        pd.Series(["2024-06-01 08:00", "2024-13-01 08:00", "昨天", "", "2024-06-01T08:00-05:00"])
    )
    assert out[0] == pd.Timestamp("2024-06-01 00:00", tz="UTC")
    assert out[1:4].isna().all()
    assert out[4] == pd.Timestamp("2024-06-01 13:00", tz="UTC")  # 08:00 at UTC−5


def test_wide_format_and_unit_conversion(station: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "wide.csv", (
        "时间,水温(℉),叶绿素a(mg/L),溶解氧(ug/L),电导率(mS/cm),pH\n"
        "2024-06-01 08:00,68,0.005,8200,0.31,7.9\n"
        "2024-06-01 09:00,69.8,0.0062,,0.32,8.0\n"
    ))  # fmt: skip
    r = load(station, path)
    assert r.added == 10 and r.missing == 1  # type: ignore[attr-defined]
    # (68 − 32) × 5/9 = 20 ℃; (69.8 − 32) × 5/9 = 21 ℃
    assert [v.value for v in stored(station, "water_temp")] == pytest.approx([20.0, 21.0])
    # 0.005 mg/L × 1000 = 5 μg/L; 0.0062 × 1000 = 6.2
    assert [v.value for v in stored(station, "chla")] == pytest.approx([5.0, 6.2])
    # 8200 μg/L × 0.001 = 8.2 mg/L; the empty cell is kept as a missing value
    assert [v.value for v in stored(station, "do")] == pytest.approx([8.2, None])
    # 0.31 mS/cm × 1000 = 310 μS/cm
    assert stored(station, "conductivity")[0].value == pytest.approx(310.0)
    assert stored(station, "chla")[0].unit == "μg/L"
    said = " ".join(r.conversions)  # type: ignore[attr-defined]
    assert "叶绿素a: mg/L → μg/L,×1000" in said and "水温: ℉ → ℃" in said and "电导率" in said
    assert stored(station, "do")[1].qc == ["MISSING"]


def count(engine: Engine) -> int:
    with db.session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(StationValue)) or 0)


def test_a_bad_file_is_refused_whole_with_every_bad_row_named(
    station: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path / "bad.csv", (
        "站点,参数,单位,时间,值\n"
        f"{CODE},水温,℃,2024-06-01 08:00,20.5\n"  # line 2: good
        f"{CODE},水温,℃,2024-06-31 08:00,20.5\n"  # 3: no 31 June
        f"{CODE},水温,℃,2024-06-01 09:00,二十\n"  # 4: not a number
        f"{CODE},水色,,2024-06-01 09:00,3\n"  # 5: unknown parameter
        f"{CODE},水温,mg/L,2024-06-01 10:00,20\n"  # 6: a unit water temperature cannot have
        f"{CODE},水温,℃,2024-06-01 08:00,20.6\n"  # 7: same parameter and time as line 2
        "SHSK,水温,℃,2024-06-01 11:00,20.6\n"  # 8: another station
        f"{CODE},溶解氧,μg/L,2024-06-01 08:00,8000\n"  # 9: good (converted)
    ))  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        load(station, path)
    rows = caught.value.rows
    assert len(rows) == 6
    assert rows[0].startswith("第 3 行") and "时间“2024-06-31 08:00”无法识别" in rows[0]
    assert rows[1].startswith("第 4 行") and "不是数字" in rows[1]
    assert rows[2].startswith("第 5 行") and "未知参数“水色”" in rows[2]
    assert rows[3].startswith("第 6 行") and "水温的单位应为 ℃" in rows[3]
    assert rows[4].startswith("第 7 行") and "与第 2 行重复" in rows[4]
    assert rows[5].startswith("第 8 行") and "SHSK" in rows[5]
    assert count(station) == 0


def test_wide_file_names_the_bad_column(station: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "时间,水温(mg/L),水色(度)\n2024-06-01 08:00,20,3\n")
    with pytest.raises(ValidationError) as caught:
        load(station, path)
    assert any("列“水温(mg/L)”" in r for r in caught.value.rows)
    assert any("列“水色(度)”: 未知参数" in r for r in caught.value.rows)
    assert count(station) == 0


def test_reimport_updates_only_changed_values_and_drops_stale_verdicts(
    station: Engine, tmp_path: Path
) -> None:
    load(station, write(tmp_path / "a.csv", hourly("2024-06-01 08:00", ["20", "20.1", "20.2"])))
    first = stored(station, "water_temp")
    with db.session_scope(station) as session:
        override(session, account_by_username(session, "admin"), first[1].id, "bad", "探头清洗")
    # 08:00 same, 09:00 corrected, 10:00 same, 11:00 new
    r = load(
        station,
        write(tmp_path / "b.csv", hourly("2024-06-01 08:00", ["20", "20.3", "20.2", "20.4"])),
    )
    assert (r.added, r.updated, r.unchanged) == (1, 1, 2)  # type: ignore[attr-defined]
    values = stored(station, "water_temp")
    assert [v.value for v in values] == [20.0, 20.3, 20.2, 20.4]
    assert values[1].override is None  # the verdict judged 20.1, not 20.3
    with db.session_scope(station) as session:
        entry = [
            e for e in audit.entries(session, entity_type="station") if e.action == "station.import"
        ][-1]
    change = entry.context["changes"][0]
    assert (change["before"], change["after"], change["override_cleared"]) == (20.1, 20.3, "bad")


# --------------------------------------------------------------------------- QC engine

SPEC = qc.ParameterSpec(label="t", unit="x", min=-0.5, max=40.0, spike=2.0, flat_n=4,
                        flat_tolerance=0.01, interval_minutes=60)  # fmt: skip
HOURS = [i * 3600.0 for i in range(5)]


def flags(
    values: list[float], spec: qc.ParameterSpec = SPEC, times: list[float] = HOURS
) -> list[list[str]]:
    return qc.flag_series(times[: len(values)], np.array(values, dtype=float), spec, 1.5)


def test_range_on_both_sides() -> None:
    # min −0.5, max 40: the limits themselves pass, 0.1 beyond fails
    no_spike = SPEC.model_copy(update={"spike": None, "flat_n": None})
    assert flags([-0.5, 40.0, -0.6, 40.1], no_spike) == [[], [], ["RANGE"], ["RANGE"]]


def test_spike_on_both_sides() -> None:
    # x = 10, 10, 12.5, 10, 10 at index 2: |12.5 − (10+10)/2| − |(10−10)/2| = 2.5 > 2 → SPIKE;
    # at index 1: |10 − (10+12.5)/2| − |(12.5−10)/2| = 1.25 − 1.25 = 0: the neighbours pass
    assert flags([10, 10, 12.5, 10, 10]) == [[], [], ["SPIKE"], [], []]
    # 12.0: |12 − 10| − 0 = 2.0, not > 2 → passes; 11.9 → 1.9 passes
    assert flags([10, 10, 12.0, 10, 10]) == [[]] * 5
    assert flags([10, 10, 11.9, 10, 10]) == [[]] * 5


def test_spike_ignores_steps_and_ramps() -> None:
    # a step 10, 10, 13, 13, 13 at index 2: |13 − (10+13)/2| − |(13−10)/2| = 1.5 − 1.5 = 0;
    # QARTOD's form without the gradient term would give 1.5
    one = SPEC.model_copy(update={"spike": 1.0, "flat_n": None})
    assert flags([10, 10, 13, 13, 13], one) == [[]] * 5
    # a ramp 10, 11, 12, 13, 14: |12 − 12| − |1| = −1
    assert flags([10, 11, 12, 13, 14], one) == [[]] * 5


def test_spike_is_not_judged_across_an_outage() -> None:
    # 10 (0 h), 15 (3 h), 10 (4 h): 3 h > 1.5 × 1 h, so the middle value has no near neighbour
    assert flags([10, 15, 10], times=[0.0, 3 * 3600.0, 4 * 3600.0]) == [[], [], []]
    # the same values an hour apart: |15 − 10| − 0 = 5 > 2
    assert flags([10, 15, 10]) == [[], ["SPIKE"], []]


def test_flat_line_on_both_sides() -> None:
    no_spike = SPEC.model_copy(update={"spike": None})
    six = [0.0, 3600.0, 7200.0, 10800.0, 14400.0, 18000.0]
    # 4 values 7.00, 7.01, 7.00, 7.01: max − min = 0.01 ≤ tolerance 0.01 → all four FLAT
    assert flags([5, 7.00, 7.01, 7.00, 7.01, 9], no_spike, six) == [
        [],
        ["FLAT"],
        ["FLAT"],
        ["FLAT"],
        ["FLAT"],
        [],
    ]
    # spread 7.02 − 7.00 = 0.02 > 0.01 → none
    assert flags([5, 7.00, 7.02, 7.00, 7.01, 9], no_spike, six) == [[]] * 6
    # 3 identical values are one fewer than flat_n = 4 → none
    assert flags([5, 7, 7, 7, 9], no_spike) == [[]] * 5


def test_missing_values_are_flagged_and_skipped_by_the_other_tests() -> None:
    # NaN is MISSING, not RANGE; the spike test compares 10 with 10 and 10 around it
    assert flags([10, float("nan"), 10, 10, 10], SPEC.model_copy(update={"flat_n": None})) == [
        [], ["MISSING"], [], [], []]  # fmt: skip


def test_gaps_on_both_sides() -> None:
    # steps of 60, 90 and 120 minutes; allowed: 1.5 × 60 = 90 → only the 120-minute step is a
    # gap, with round(120 / 60) − 1 = 1 observation missing
    minutes = [0, 60, 150, 270]
    found = qc.find_gaps([m * 60.0 for m in minutes], 60, 1.5)
    assert found == [qc.GapSpan(150 * 60.0, 270 * 60.0, 1)]


# --------------------------------------------------------------------------- QC in the database


def test_qc_runs_over_the_whole_series_so_spikes_at_file_borders_are_caught(station: Engine,
                                                                          tmp_path: Path) -> None:  # fmt: skip
    load(station, write(tmp_path / "a.csv", hourly("2024-06-01 08:00", ["10", "10", "16"])))
    assert [v.qc for v in stored(station, "water_temp")] == [[], [], []]  # 16 has no next value yet
    load(station, write(tmp_path / "b.csv", hourly("2024-06-01 11:00", ["10", "10"])))
    # water temperature spike threshold 2.0 ℃ (stations.toml): |16 − (10+10)/2| − 0 = 6 > 2
    assert [v.qc for v in stored(station, "water_temp")] == [[], [], ["SPIKE"], [], []]


def test_gaps_between_rows_and_at_window_edges(station: Engine, tmp_path: Path) -> None:
    # pH every hour (interval 60 min, gap factor 1.5): 08, 09, then 12, 13 → 10 and 11 missing
    text = (
        hourly("2024-06-01 08:00", ["7.5", "7.6"], "pH")
        + hourly("2024-06-01 12:00", ["7.7", "7.8"], "pH").split("\n", 1)[1]
    )
    load(station, write(tmp_path / "ph.csv", text))
    with db.session_scope(station) as session:
        between = gaps(session, CODE, "pH")
        day = gaps(session, CODE, "ph", dt.date(2024, 6, 1), dt.date(2024, 6, 1))
    assert [(g.after.hour, g.before.hour, g.missing, g.hours) for g in between] == [(9, 12, 2, 3.0)]
    # over the whole Beijing day: 00:00–08:00 (00…07, 8 values), 09–12, and 13:00 → 24:00
    # (14…23, 10 values)
    assert [(g.after.hour, g.missing) for g in day] == [(0, 8), (9, 2), (13, 10)]


def test_a_persons_verdict_wins_is_audited_and_needs_the_right_role(
    station: Engine, tmp_path: Path
) -> None:
    load(
        station,
        write(tmp_path / "a.csv", hourly("2024-06-01 08:00", ["10", "10", "16", "10", "10"])),
    )
    spike = stored(station, "water_temp")[2]
    assert spike.qc == ["SPIKE"]
    with db.session_scope(station) as session:
        for username in ("haidian", "leader"):
            with pytest.raises(PermissionDenied):
                override(session, account_by_username(session, username), spike.id, "good", "核实")
        with pytest.raises(ValidationError, match="理由"):
            override(session, account_by_username(session, "miyun"), spike.id, "good", "  ")
        with pytest.raises(ValidationError):
            override(session, account_by_username(session, "miyun"), spike.id, "fine", "核实")
        override(
            session,
            account_by_username(session, "miyun"),
            spike.id,
            "good",
            "暴雨后实测升温,已现场核实",
        )
    frame = _series(station, include_bad=True)
    assert frame.loc[2, "quality"] == "good" and frame.loc[2, "flags"] == "SPIKE"
    with db.session_scope(station) as session:
        entry = audit.entries(session, entity_type="station_value", entity_id=str(spike.id))[-1]
        override(session, account_by_username(session, "coord"), spike.id, "bad", "复核后判无效")
        override(session, account_by_username(session, "admin"), spike.id, "bad", "同意")
    assert entry.actor == "user:miyun" and entry.after["override"] == "good"
    assert entry.before == {"override": None, "note": "", "by": None}
    assert (
        len(_series(station, include_bad=False)) == 4
    )  # the judged-bad value leaves the default series


def _series(engine: Engine, *, include_bad: bool) -> pd.DataFrame:
    with db.session_scope(engine) as session:
        return series(session, CODE, "水温", include_bad=include_bad)


def test_series_daily_summary_and_export(station: Engine, tmp_path: Path) -> None:
    # 1 June: 08–11 h 10, 11, 40.5, 12; 2 June 00:00: 14 (Beijing days). 40.5 > max 40 is
    # RANGE, and a spike: |40.5 − (11+12)/2| − |(12−11)/2| = 29 − 0.5 = 28.5 > 2
    text = hourly("2024-06-01 08:00", ["10", "11", "40.5", "12"]) + "2024-06-02 00:00,14\n"
    load(station, write(tmp_path / "a.csv", text))
    with db.session_scope(station) as session:
        days = daily_summary(session, CODE, "water_temp")
        one_day = series(session, CODE, "water_temp", dt.date(2024, 6, 2), dt.date(2024, 6, 2))
        data = export_csv(session, CODE)
        table = qc_summary(session, CODE)
    # 1 June good values 10, 11, 12: mean 11, min 10, max 12, count 3 of 4 rows
    first = days.iloc[0]
    assert (str(first["date"]), first["mean"], first["min"], first["max"], first["count"], first["rows"]) == (
        "2024-06-01", 11.0, 10.0, 12.0, 3, 4)  # fmt: skip
    assert days.iloc[1]["count"] == 1 and days.iloc[1]["mean"] == 14.0
    assert one_day["value"].tolist() == [14.0]
    assert one_day["time"].iloc[0].isoformat() == "2024-06-02T00:00:00+08:00"
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "station,parameter,label,unit,time,value,flags,RANGE,SPIKE,FLAT,MISSING"
    )
    assert (
        f"{CODE},water_temp,水温,℃,2024-06-01T10:00:00+08:00,40.5,RANGE;SPIKE,1,1,0,0,,,,bad"
        in lines
    )
    row = table.iloc[0]
    assert (row["parameter"], row["values"], row["RANGE"], row["bad"], row["good"]) == (
        "water_temp",
        5,
        1,
        1,
        4,
    )
    # the export reads back unchanged
    r = load(station, write(tmp_path / "back.csv", data.decode("utf-8-sig")))
    assert (r.added, r.updated, r.unchanged) == (0, 0, 5)  # type: ignore[attr-defined]


def test_station_commands(station: Engine, tmp_path: Path, cli_home: Path) -> None:
    from ecoplan.monitoring.registers_cli import station_app

    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(station_app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    out = run(
        "add",
        "MY01",
        "密云水库国家生态质量综合监测站",
        "--unit",
        "110118",
        "--lon",
        "116.98",
        "--lat",
        "40.5",
    )
    assert "MY01" in out
    csv_path = write(tmp_path / "a.csv", hourly("2024-06-01 08:00", ["10", "10", "16", "10", "10"]))
    assert "新增 5" in run("import", str(csv_path), "--station", "MY01")
    assert "water_temp" in run("qc", "--station", "MY01", "--recompute", "--parameter", "水温")
    target = tmp_path / "out.csv"
    run("export", str(target), "--station", "MY01", "--start", "2024-06-01", "--end", "2024-06-01")
    assert "SPIKE" in target.read_text(encoding="utf-8-sig")
    bad = runner.invoke(
        station_app,
        ["import", str(write(tmp_path / "b.csv", "时间,水色\nx,1\n")), "--station", "MY01"],
    )
    assert bad.exit_code == 2 and "未导入" in bad.output


def test_a_station_that_cannot_be_registered_is_refused(station: Engine) -> None:
    cases: list[tuple[str, float | None, float | None, str]] = [
        ("MYSK", None, None, "已存在"),  # the fixture's station
        ("MY/1", None, None, "只能用字母"),  # "/" would break /stations/{code}
        ("", None, None, "不能为空"),
        ("MY-2", 116.9, None, "须同时给出"),
        ("MY-2", 121.47, 31.23, "不在北京范围内"),  # Shanghai
    ]
    for code, lon, lat, message in cases:
        with db.session_scope(station) as session, pytest.raises(EcoplanError, match=message):
            add_station(session, code=code, name="站", lon=lon, lat=lat, actor="t")
    with db.session_scope(station) as session:
        assert session.scalar(select(func.count()).select_from(Station)) == 1
