"""Monitoring stations and their time series (task 9: 密云水库国家生态质量综合监测站).

``import_series`` reads a CSV in one of two layouts:

- **long**: one observation a row, columns 站点 station (optional), 参数 parameter, 单位 unit
  (optional), 时间 time, 值 value; other columns are ignored (so an ``export_csv`` file can be
  read back);
- **wide**: a 时间 time column and one column per parameter, the unit in the header:
  ``水温(℃)``, ``溶解氧(mg/L)``, ``pH``.

Times carrying an offset (``2024-06-01T08:00+08:00``, ``…Z``) are taken as written; times
without one are Beijing time. All are stored in UTC. A file is stored whole or not at all: a
malformed time, a non-numeric value, an unknown parameter, a unit that is neither the
parameter's nor convertible to it (``data/stations.toml`` lists the pairs: mg/L ↔ μg/L, mS/cm →
μS/cm, ℉ → ℃ …), the same parameter and time twice: every bad row is named in one error.

Re-importing times already stored **updates the values that changed and leaves the others
alone**, and says how many of each. Refusing would break the ordinary case (loggers resend
overlapping windows, operators send corrected files); a changed value loses its person's
verdict, which judged the old value, and the audit entry keeps every old and new value.

After each import QC (``ecoplan.monitoring.qc``) is recomputed over the whole stored series of
each parameter the file touched, so a spike at the border of two files is still caught. A
person's verdict (``override``) wins over the automatic flags.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.cases.importing import find_column
from ecoplan.cases.spatial import in_bbox
from ecoplan.config import BEIJING_TZ
from ecoplan.datafiles import read_csv_text
from ecoplan.errors import (
    ConflictError,
    InputFileError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from ecoplan.monitoring import qc
from ecoplan.monitoring.register_models import Station, StationValue
from ecoplan.units.models import Unit

LONG_COLUMNS: dict[str, tuple[str, ...]] = {
    "station": ("站点", "站点编码", "站点名称", "监测站", "station", "station_code"),
    "parameter": ("参数", "监测项目", "指标", "parameter", "variable"),
    "unit": ("单位", "unit", "units"),
    "time": ("时间", "监测时间", "日期时间", "time", "datetime", "timestamp"),
    "value": ("值", "监测值", "数值", "value"),
}
MAX_ROWS = 2_000_000
CHUNK = 5000
_OFFSET = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_HEADER = re.compile(r"^(?P<name>.*?)\s*[(\[](?P<unit>[^()\[\]]*)[)\]]\s*$")
MANAGER_ROLES = frozenset({"admin", "coordinator"})


@dataclass
class SeriesImport:
    station: str
    rows: int  # observations read (cells of a wide file)
    added: int
    updated: int
    unchanged: int
    missing: int  # rows without a value (stored, flagged MISSING)
    parameters: list[str]
    conversions: list[str] = field(default_factory=list)  # "叶绿素a: mg/L → μg/L ×1000 (3 行)"
    notes: list[str] = field(default_factory=list)
    flags: dict[str, dict[str, int]] = field(default_factory=dict)  # parameter → flag → rows


@dataclass(frozen=True)
class Gap:
    parameter: str
    after: dt.datetime  # Beijing time: last observation (or the window's start) before the gap
    before: dt.datetime  # first observation (or the window end) after it
    missing: int  # observations expected in between

    @property
    def hours(self) -> float:
        return (self.before - self.after).total_seconds() / 3600


# --------------------------------------------------------------------------- stations


def add_station(session: Session, *, code: str, name: str, actor: str, kind: str = "",
                lon: float | None = None, lat: float | None = None,
                unit_code: str | None = None) -> Station:  # fmt: skip
    """Register a station; ``unit_code`` is the unit that runs it (its users may judge values)."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ValidationError("站点编码和名称不能为空")
    if len(code) > 40 or len(name) > 200:
        raise ValidationError("站点编码最长 40 字、名称最长 200 字")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", code):  # it is part of the page address
        raise ValidationError(f"站点编码“{code}”只能用字母、数字、下划线、点和连字符")
    if session.scalar(select(Station.id).where(Station.code == code)) is not None:
        raise ConflictError(f"站点编码 {code} 已存在")
    if (lon is None) != (lat is None):
        raise ValidationError("经度和纬度须同时给出")
    if lon is not None and lat is not None and not in_bbox(lon, lat):
        raise ValidationError(f"站点坐标 ({lon}, {lat}) 不在北京范围内")
    unit = None
    if unit_code:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise ValidationError(f"单位代码 {unit_code} 不在名录中")
    station = Station(code=code, name=name, kind=kind.strip()[:40], lon=lon, lat=lat,
                      unit_id=unit.id if unit else None)  # fmt: skip
    session.add(station)
    session.flush()
    audit.record(session, actor=actor, action="station.add", entity_type="station",
                 entity_id=station.id, after=_station_snapshot(station, unit))  # fmt: skip
    return station


def stations(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).order_by(Station.code)))


def get_station(session: Session, code: str) -> Station:
    station = session.scalar(select(Station).where(Station.code == code))
    if station is None:
        raise NotFoundError(f"没有编码为 {code} 的监测站")
    return station


def _station_snapshot(station: Station, unit: Unit | None) -> dict[str, Any]:
    return {"code": station.code, "name": station.name, "kind": station.kind, "lon": station.lon,
            "lat": station.lat, "unit": unit.code if unit else None}  # fmt: skip


def parameter_key(name: str) -> str:
    """A parameter's key from its key, label or alias (``水温`` → ``water_temp``)."""
    found = qc.parameter_lookup(qc.config()).get(qc.name_key(name))
    if found is None:
        raise ValidationError(f"未知参数“{name}”(可选: {'、'.join(qc.config().parameters)})")
    return found


# --------------------------------------------------------------------------- import


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    if path.suffix.lower() != ".csv":
        raise InputFileError(path, "只接受 CSV 时间序列文件")
    text = read_csv_text(path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputFileError(path, f"无法读取 CSV({type(exc).__name__})") from exc
    if frame.empty:
        raise InputFileError(path, "文件中没有数据")
    if len(frame) > MAX_ROWS:
        raise InputFileError(path, f"行数超过上限 {MAX_ROWS}")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


@dataclass
class _Cells:
    """Observations as read, one entry per observation. ``line`` is the file's line number;
    ``column`` the header a wide file's value came from (None for a long file)."""

    line: np.ndarray[Any, np.dtype[np.int64]]
    parameter: pd.Series
    unit: pd.Series
    time: pd.Series
    value: pd.Series
    station: pd.Series | None
    column: pd.Series | None


def _cells(frame: pd.DataFrame, path: Path) -> _Cells:
    columns = list(frame.columns)
    found = {k: find_column(columns, names) for k, names in LONG_COLUMNS.items()}
    if found["time"] is None:
        raise InputFileError(path, f"缺少时间列(时间/time); 现有列: {', '.join(columns)}")
    text = frame.apply(lambda c: c.str.strip())
    lines = np.arange(len(frame), dtype=np.int64) + 2  # line 1 is the header
    station = text[found["station"]] if found["station"] is not None else None
    if found["parameter"] is not None and found["value"] is not None:
        blank = pd.Series([""] * len(frame))
        unit = text[found["unit"]] if found["unit"] is not None else blank
        return _Cells(lines, text[found["parameter"]], unit, text[found["time"]],
                      text[found["value"]], station, None)  # fmt: skip
    data_columns = [c for c in columns if c not in (found["time"], found["station"])]
    if not data_columns:
        raise InputFileError(path, "除时间列外没有参数列")
    headers: dict[str, tuple[str, str]] = {}
    for column in data_columns:
        match = _HEADER.match(column)
        headers[column] = (match["name"].strip(), match["unit"].strip()) if match else (column, "")
    k = len(data_columns)
    which = pd.Series(np.repeat(np.array(data_columns, dtype=object), len(frame)))
    return _Cells(np.tile(lines, k), which.map(lambda c: headers[c][0]),
                  which.map(lambda c: headers[c][1]),
                  pd.concat([text[found["time"]]] * k, ignore_index=True),
                  pd.concat([text[c] for c in data_columns], ignore_index=True),
                  None if station is None else pd.concat([station] * k, ignore_index=True),
                  which)  # fmt: skip


def parse_times(text: pd.Series) -> pd.Series:
    """Times as UTC timestamps (NaT where unreadable): with an offset as written, without one
    as Beijing time (``ecoplan.config.BEIJING_TZ``)."""
    text = text.astype(str).str.strip().reset_index(drop=True)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    has_offset = text.map(lambda s: bool(_OFFSET.search(s))).astype(bool)
    for offset in (True, False):
        chosen = (text != "") & (has_offset == offset)
        if not chosen.any():
            continue
        part = text[chosen]
        parsed = pd.to_datetime(part, errors="coerce", format="ISO8601", utc=offset)
        retry = parsed.isna()
        if retry.any():  # 2024/6/1 8:00 and other spellings, one by one
            again = pd.to_datetime(part[retry], errors="coerce", format="mixed", utc=offset)
            parsed = parsed.where(~retry, again)
        if not offset:
            parsed = parsed.dt.tz_localize(BEIJING_TZ).dt.tz_convert("UTC")
        out[chosen] = parsed
    return out


def _check_units(cfg: qc.StationConfig, cells: _Cells, keys: pd.Series,
                 problems: list[tuple[int, str]]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], list[str], list[str]]:  # fmt: skip
    factor = np.ones(len(keys))
    offset = np.zeros(len(keys))
    conversions: list[str] = []
    notes: list[str] = []
    known = keys.notna()
    pairs = pd.DataFrame({"key": keys[known], "unit": cells.unit[known]}).drop_duplicates()
    for key, unit in pairs.itertuples(index=False):
        spec = cfg.parameters[key]
        rows = ((keys == key) & (cells.unit == unit)).to_numpy()
        fix = qc.unit_fix(cfg, key, unit)
        if fix is None:
            wanted = f"{spec.label}的单位应为 {spec.unit},文件中为“{unit}”,且无换算"
            if cells.column is not None:
                column = cells.column[rows].iloc[0]
                problems.append((1, f"列“{column}”: {wanted}"))
            else:
                problems += [(int(cells.line[i]), wanted) for i in np.flatnonzero(rows)]
            continue
        if unit == "" and qc.unit_key(spec.unit) not in ("", "无量纲"):
            notes.append(f"{spec.label}: 未注明单位的 {int(rows.sum())} 个值按 {spec.unit} 处理")
        if not fix.identity:
            factor[rows], offset[rows] = fix.factor, fix.offset
            shift = f" {fix.offset:+g}" if fix.offset else ""
            conversions.append(f"{spec.label}: {unit} → {spec.unit},×{fix.factor:g}{shift}"
                               f"({int(rows.sum())} 个值)")  # fmt: skip
    return factor, offset, conversions, notes


def import_series(session: Session, path: Path, *, station_code: str, actor: str) -> SeriesImport:
    """Read a CSV of observations for one station, store it whole or refuse it whole, and
    recompute QC over each touched parameter's full series."""
    station = get_station(session, station_code)
    cfg = qc.config()
    cells = _cells(_read_csv(path), path)
    problems: list[tuple[int, str]] = []
    lookup = qc.parameter_lookup(cfg)
    keys = cells.parameter.map(lambda s: lookup.get(qc.name_key(s)))
    unknown = keys.isna().to_numpy()
    if cells.column is not None:  # wide: one error per unknown column
        for column in cells.column[unknown].unique():
            problems.append(
                (
                    1,
                    f"列“{column}”: 未知参数(可选: {'、'.join(p.label for p in cfg.parameters.values())})",
                )
            )
    else:
        problems += [(int(cells.line[i]), f"未知参数“{cells.parameter.iloc[i]}”")
                     for i in np.flatnonzero(unknown)]  # fmt: skip
    if cells.station is not None:
        wrong = (
            (cells.station != "") & ~cells.station.isin([station.code, station.name])
        ).to_numpy()
        problems += [(int(cells.line[i]), f"站点“{cells.station.iloc[i]}”不是 {station.code}")
                     for i in np.flatnonzero(wrong)]  # fmt: skip
    factor, offset, conversions, notes = _check_units(cfg, cells, keys, problems)
    times = parse_times(cells.time)
    bad_time = times.isna().to_numpy()
    problems += [(int(cells.line[i]), f"时间“{cells.time.iloc[i]}”无法识别")
                 for i in np.flatnonzero(bad_time)]  # fmt: skip
    numbers = pd.to_numeric(cells.value, errors="coerce").to_numpy(dtype=np.float64)
    empty = (cells.value == "").to_numpy()
    bad_number = ~empty & ~np.isfinite(numbers)
    problems += [(int(cells.line[i]), f"值“{cells.value.iloc[i]}”不是数字")
                 for i in np.flatnonzero(bad_number)]  # fmt: skip
    keyed = pd.DataFrame({"key": keys, "time": times})
    duplicate = ~unknown & ~bad_time & keyed.duplicated(keep=False).to_numpy()
    first: dict[tuple[str, pd.Timestamp], int] = {}
    for i in np.flatnonzero(duplicate):
        pair = (str(keys.iloc[i]), times.iloc[i])
        if pair in first:
            when = pair[1].tz_convert(BEIJING_TZ).strftime("%Y-%m-%d %H:%M")
            problems.append((int(cells.line[i]), f"与第 {first[pair]} 行重复"
                             f"({cfg.parameters[pair[0]].label} {when})"))  # fmt: skip
        else:
            first[pair] = int(cells.line[i])
    if problems:
        rows = [f"第 {line} 行: {text}" if line > 1 else text
                for line, text in sorted(set(problems), key=lambda p: p[0])]  # fmt: skip
        raise ValidationError(
            f"{path.name}: {len(rows)} 处错误,未导入: " + "; ".join(rows[:8]), rows
        )
    values = np.where(empty, np.nan, numbers * factor + offset)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = _store(session, station, keys.astype(str).tolist(), times, values, digest, actor,
                    path.name)  # fmt: skip
    result.missing = int(empty.sum())
    result.conversions, result.notes = conversions, notes
    return result


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _store(session: Session, station: Station, keys: list[str], times: pd.Series,
           values: np.ndarray[Any, Any], digest: str, actor: str, file: str) -> SeriesImport:  # fmt: skip
    cfg = qc.config()
    ats = [t.to_pydatetime() for t in times]
    nums: list[float | None] = [None if v != v else float(v) for v in values.tolist()]  # NaN → None
    params = sorted(set(keys))
    stored: dict[tuple[str, dt.datetime], tuple[int, float | None, str | None]] = {}
    query = select(StationValue.id, StationValue.parameter, StationValue.at, StationValue.value,
                   StationValue.override).where(
        StationValue.station_id == station.id, StationValue.parameter.in_(params),
        StationValue.at >= min(ats), StationValue.at <= max(ats))  # fmt: skip
    for row in session.execute(query):
        stored[(row.parameter, row.at)] = (row.id, row.value, row.override)
    new_rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    unchanged = 0
    for key, at, value in zip(keys, ats, nums, strict=True):
        unit = cfg.parameters[key].unit
        known = stored.get((key, at))
        if known is None:
            new_rows.append({"station_id": station.id, "parameter": key, "at": at, "value": value,
                             "unit": unit, "qc": [], "override": None, "override_note": "",
                             "override_by": None, "batch": digest[:16]})  # fmt: skip
        elif _same(known[1], value):
            unchanged += 1
        else:
            changes.append({"id": known[0], "parameter": key, "at": at.isoformat(),
                            "before": known[1], "after": value, "override_cleared": known[2]})  # fmt: skip
    for start in range(0, len(new_rows), CHUNK):
        session.execute(insert(StationValue), new_rows[start : start + CHUNK])
    updates = [{"id": c["id"], "value": c["after"], "batch": digest[:16], "override": None,
                "override_note": "", "override_by": None} for c in changes]  # fmt: skip
    for start in range(0, len(updates), CHUNK):
        session.execute(update(StationValue), updates[start : start + CHUNK])
    flags = {key: _recompute(session, station.id, key) for key in params}
    audit.record(session, actor=actor, action="station.import", entity_type="station",
                 entity_id=station.id,
                 after={"file": file, "sha256": digest, "added": len(new_rows),
                        "updated": len(changes), "unchanged": unchanged, "parameters": params},
                 context={"changes": changes} if changes else None)  # fmt: skip
    return SeriesImport(station.code, len(keys), len(new_rows), len(changes), unchanged, 0,
                        params, flags=flags)  # fmt: skip


# --------------------------------------------------------------------------- QC


def _recompute(session: Session, station_id: int, parameter: str) -> dict[str, int]:
    """Flags of one parameter's whole stored series; writes the rows whose flags changed and
    returns how many rows carry each flag."""
    cfg = qc.config()
    spec = cfg.parameters.get(parameter)
    query = (select(StationValue.id, StationValue.at, StationValue.value, StationValue.qc)
             .where(StationValue.station_id == station_id, StationValue.parameter == parameter)
             .order_by(StationValue.at))  # fmt: skip
    rows = session.execute(query).all()
    if spec is None or not rows:  # a parameter since removed from the table keeps its flags
        return {}
    seconds = np.array([r.at.timestamp() for r in rows], dtype=np.float64)
    values = np.array([np.nan if r.value is None else r.value for r in rows], dtype=np.float64)
    flags = qc.flag_series(seconds, values, spec, cfg.gap_factor)
    changed = [
        {"id": r.id, "qc": f} for r, f in zip(rows, flags, strict=True) if list(r.qc or []) != f
    ]
    for start in range(0, len(changed), CHUNK):
        session.execute(update(StationValue), changed[start : start + CHUNK])
    counts: dict[str, int] = {}
    for row_flags in flags:
        for code in row_flags:
            counts[code] = counts.get(code, 0) + 1
    return counts


def recompute_qc(session: Session, station_code: str, *, actor: str) -> dict[str, dict[str, int]]:
    """Re-run QC over every parameter of a station (after thresholds in the table change)."""
    station = get_station(session, station_code)
    params = session.scalars(select(StationValue.parameter).where(
        StationValue.station_id == station.id).distinct()).all()  # fmt: skip
    result = {p: _recompute(session, station.id, p) for p in sorted(params)}
    audit.record(session, actor=actor, action="station.qc", entity_type="station",
                 entity_id=station.id, after={"flags": result, "qc_version": qc.config().version})  # fmt: skip
    return result


def qc_summary(session: Session, station_code: str) -> pd.DataFrame:
    """One row per parameter: values, flags, people's verdicts, effective quality, gaps."""
    station = get_station(session, station_code)
    cfg = qc.config()
    params = sorted(session.scalars(select(StationValue.parameter).where(
        StationValue.station_id == station.id).distinct()).all())  # fmt: skip
    rows = []
    for key in params:
        frame = series(session, station_code, key, include_bad=True)
        spec = cfg.parameters.get(key)
        row: dict[str, Any] = {"parameter": key, "label": spec.label if spec else key,
                               "unit": spec.unit if spec else "", "values": len(frame)}  # fmt: skip
        for code in qc.FLAGS:
            row[code] = int(frame["flags"].str.contains(code).sum())
        row["overridden"] = int(frame["override"].notna().sum())
        for level in ("good", "suspect", "bad", "missing"):
            row[level] = int((frame["quality"] == level).sum())
        row["gaps"] = len(gaps(session, station_code, key)) if spec else 0
        rows.append(row)
    return pd.DataFrame(rows)


def may_operate(account: Account, station: Station) -> bool:
    """Admins, coordinators and users of the unit that runs the station: who may judge its
    values (and, in the web UI, upload its series)."""
    unit_user = (
        account.role == "unit"
        and account.unit_id is not None
        and account.unit_id == station.unit_id
    )
    return account.role in MANAGER_ROLES or unit_user


def override(
    session: Session, account: Account, value_id: int, verdict: str, note: str
) -> StationValue:
    """A person's verdict on one value (``good`` or ``bad``), which wins over the automatic
    flags. Admins, coordinators and users of the unit that runs the station may judge."""
    value = session.get(StationValue, value_id)
    if value is None:
        raise NotFoundError(f"没有编号为 {value_id} 的监测值")
    station = session.get(Station, value.station_id)
    assert station is not None  # a foreign key
    if not may_operate(account, station):
        raise PermissionDenied("只有管理员、督办协调员或站点运维单位可以判定监测值")
    if verdict not in ("good", "bad"):
        raise ValidationError(f"判定应为 good(有效)或 bad(无效),不是“{verdict}”")
    note = (note or "").strip()
    if not note:
        raise ValidationError("判定须写明理由")
    if verdict == "good" and value.value is None:
        raise ValidationError("缺测值不能判定为有效")
    before = {"override": value.override, "note": value.override_note, "by": value.override_by}
    value.override, value.override_note, value.override_by = verdict, note, account.actor
    session.flush()
    audit.record(session, actor=account.actor, action="station.override", entity_type="station_value",
                 entity_id=value.id, before=before,
                 after={"override": verdict, "note": note, "by": account.actor, "flags": value.qc},
                 context={"station": station.code, "parameter": value.parameter,
                          "at": value.at.isoformat(), "value": value.value})  # fmt: skip
    return value


# --------------------------------------------------------------------------- reading


Bound = dt.datetime | dt.date | None


def _utc(bound: Bound, *, end: bool) -> dt.datetime | None:
    """A window bound in UTC: a date is a whole Beijing day (an end date includes its day), a
    naive datetime is Beijing time."""
    if bound is None:
        return None
    if not isinstance(bound, dt.datetime):
        day = bound + dt.timedelta(days=1) if end else bound
        return dt.datetime.combine(day, dt.time(), BEIJING_TZ).astimezone(dt.UTC)
    if bound.tzinfo is None:
        bound = bound.replace(tzinfo=BEIJING_TZ)
    return bound.astimezone(dt.UTC)


COLUMNS = [
    "id",
    "time",
    "value",
    "unit",
    "flags",
    "override",
    "override_note",
    "override_by",
    "quality",
]


def series(session: Session, station_code: str, parameter: str, start: Bound = None,
           end: Bound = None, *, include_bad: bool = False) -> pd.DataFrame:  # fmt: skip
    """One parameter's values in [start, end) with their effective quality, times in Beijing
    time. Without ``include_bad`` only good and suspect values are returned."""
    station = get_station(session, station_code)
    key = parameter_key(parameter)
    cfg = qc.config()
    query = select(StationValue).where(StationValue.station_id == station.id,
                                       StationValue.parameter == key).order_by(StationValue.at)  # fmt: skip
    lo, hi = _utc(start, end=False), _utc(end, end=True)
    if lo is not None:
        query = query.where(StationValue.at >= lo)
    if hi is not None:
        query = query.where(StationValue.at < hi)
    rows = [(v.id, v.at.astimezone(BEIJING_TZ), v.value, v.unit, ";".join(v.qc or []), v.override,
             v.override_note, v.override_by, qc.quality(list(v.qc or []), v.override, cfg))
            for v in session.scalars(query)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["value"] = frame["value"].astype("float64")
    if not include_bad:
        frame = frame[frame["quality"].isin(["good", "suspect"])].reset_index(drop=True)
    return frame


def daily_summary(session: Session, station_code: str, parameter: str, start: Bound = None,
                  end: Bound = None) -> pd.DataFrame:  # fmt: skip
    """Per Beijing day: mean, min, max and count of the good values, and rows in all."""
    frame = series(session, station_code, parameter, start, end, include_bad=True)
    columns = ["date", "mean", "min", "max", "count", "rows"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["date"] = [t.date() for t in frame["time"]]
    good = frame[frame["quality"] == "good"]
    stats = good.groupby("date")["value"].agg(["mean", "min", "max", "count"])
    total = frame.groupby("date").size().rename("rows")
    out = pd.concat([stats, total], axis=1).reset_index()
    out["count"] = out["count"].fillna(0).astype(int)
    return out[columns]


def export_csv(session: Session, station_code: str, *, parameter: str | None = None,
               start: Bound = None, end: Bound = None) -> bytes:  # fmt: skip
    """All values (bad ones too) with their flags as columns, UTF-8 with BOM for Excel. The
    ``station, parameter, unit, time, value`` columns read back with :func:`import_series`."""
    station = get_station(session, station_code)
    cfg = qc.config()
    if parameter:
        params = [parameter_key(parameter)]
    else:
        params = sorted(session.scalars(select(StationValue.parameter).where(
            StationValue.station_id == station.id).distinct()).all())  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["station", "parameter", "label", "unit", "time", "value", "flags", *qc.FLAGS,
                     "override", "override_note", "override_by", "quality"])  # fmt: skip
    for key in params:
        label = cfg.parameters[key].label if key in cfg.parameters else key
        frame = series(session, station_code, key, start, end, include_bad=True)
        for row in frame.itertuples(index=False):
            codes = row.flags.split(";") if row.flags else []
            writer.writerow([station.code, key, label, row.unit, row.time.isoformat(),
                             "" if pd.isna(row.value) else f"{row.value:g}", row.flags,
                             *(int(c in codes) for c in qc.FLAGS), row.override or "",
                             row.override_note or "", row.override_by or "", row.quality])  # fmt: skip
    return out.getvalue().encode("utf-8-sig")


def gaps(session: Session, station_code: str, parameter: str, start: Bound = None,
         end: Bound = None) -> list[Gap]:  # fmt: skip
    """Missing intervals longer than allowed (``gap_factor`` × the parameter's expected
    interval), between rows and, when a window is given, at its edges."""
    station = get_station(session, station_code)
    key = parameter_key(parameter)
    cfg = qc.config()
    spec = cfg.parameters[key]
    lo, hi = _utc(start, end=False), _utc(end, end=True)
    query = select(StationValue.at).where(StationValue.station_id == station.id,
                                          StationValue.parameter == key).order_by(StationValue.at)  # fmt: skip
    if lo is not None:
        query = query.where(StationValue.at >= lo)
    if hi is not None:
        query = query.where(StationValue.at < hi)
    seconds = [at.timestamp() for at in session.scalars(query)]
    # the window's edges act as observations: one interval before its start (so that a
    # missing first slot counts) and its exclusive end; a gap at the start is shown from it
    step = spec.interval_minutes * 60
    edges = ([lo.timestamp() - step] if lo else []) + seconds + ([hi.timestamp()] if hi else [])
    out: list[Gap] = []
    for g in qc.find_gaps(edges, spec.interval_minutes, cfg.gap_factor):
        after = max(g.after_s, lo.timestamp()) if lo else g.after_s
        out.append(Gap(key, dt.datetime.fromtimestamp(after, BEIJING_TZ),
                       dt.datetime.fromtimestamp(g.before_s, BEIJING_TZ), g.missing))  # fmt: skip
    return out
