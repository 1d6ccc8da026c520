"""Joint control with Tianjin and Hebei (plan task 10.2 协同防控美国白蛾、松材线虫): monitoring
records out to the partners and in from them, as one CSV layout both ways.

The CSV (UTF-8 with BOM so that Excel opens it in Chinese, one record a row, header in English)
has the columns of :data:`COLUMNS`; positions are WGS84 decimal degrees, dates ISO 8601, the
species by scientific name (the Chinese name rides along for people), the method by its key.
``record_id`` is the sender's stable identifier: the same record always goes out under the same
ID, so a partner re-importing finds the duplicates. Negative results (value 0) are exchanged too.

A partner's file is checked like a local sheet, all or nothing, except that positions may lie
anywhere in the Beijing–Tianjin–Hebei box (``[exchange] bbox``); its records keep their
province, district and origin (``exchange:<province>:<file>``), and only records in Beijing are
judged by the alert rules.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.config import today as clock_today
from ecoplan.errors import ValidationError
from ecoplan.monitoring.invasive import (
    ReadOptions,
    RecordImport,
    get_species,
    import_file,
    province_name,
)
from ecoplan.monitoring.invasive_config import load_config
from ecoplan.monitoring.invasive_models import InvasiveRecord, InvasiveSite, InvasiveSpecies

# column -> meaning (docs/monitoring-invasive.md repeats this table)
COLUMNS: dict[str, str] = {
    "record_id": "发送方的稳定记录编号(唯一)",
    "province": "省份: 北京 / 天津 / 河北",
    "scientific_name": "学名",
    "name_cn": "中文名",
    "method": "监测方法代码(trap_catch, light_trap, egg_masses, density, nest_trees, …)",
    "value": "数值(单位见 value_unit;镜检 1 阳性 / 0 阴性)",
    "value_unit": "数值单位",
    "effort_days": "诱测天数(诱捕器·日或灯·夜;可空)",
    "observed_on": "监测日期 YYYY-MM-DD",
    "lon": "经度(WGS84,十进制度)",
    "lat": "纬度(WGS84,十进制度)",
    "district_code": "区县行政区划代码",
    "district_name": "区县名称",
    "township": "乡镇(街道)",
    "site_code": "监测点编号(发送方的)",
    "host": "寄主",
    "recorded_by": "调查人",
    "remarks": "备注",
}


def _num(value: float | None) -> str:
    """Shortest text that reads back as the same float ("3" for 3.0)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def export_records_csv(session: Session, species_keys: Sequence[str], year: int) -> bytes:
    """Beijing's records of the species in ``year`` as exchange CSV bytes (UTF-8 with BOM),
    ordered by species, date and record ID."""
    species = [get_species(session, key) for key in species_keys]
    if not species:
        raise ValidationError("须选择至少一个物种")
    query = (
        select(InvasiveRecord, InvasiveSpecies, InvasiveSite.code)
        .join(InvasiveSpecies, InvasiveSpecies.id == InvasiveRecord.species_id)
        .outerjoin(InvasiveSite, InvasiveSite.id == InvasiveRecord.site_id)
        .where(
            InvasiveRecord.species_id.in_([s.id for s in species]),
            InvasiveRecord.province == "北京",
            InvasiveRecord.observed_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
        )
        .order_by(InvasiveSpecies.scientific_name, InvasiveRecord.observed_on, InvasiveRecord.record_id)
    )  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r, sp, site_code in session.execute(query):
        writer.writerow([
            r.record_id, r.province, sp.scientific_name, sp.name_cn, r.method, _num(r.value), r.value_unit,
            _num(r.effort_days), r.observed_on.isoformat(), _num(r.lon), _num(r.lat), r.district_code or "",
            r.district_name or "", r.township, site_code or "", r.host, r.recorded_by, r.remarks,
        ])  # fmt: skip
    return out.getvalue().encode("utf-8-sig")


def _province(text: str) -> str:
    name = province_name(text)
    provinces = load_config().exchange.provinces
    if name not in provinces:
        raise ValidationError(f"来源省份“{text}”无法识别(可选: {'、'.join(provinces)})")
    return name


def import_exchange_csv(
    session: Session, path: Path, *, actor: str, province: str, today: dt.date | None = None
) -> RecordImport:
    """A partner's (or our own, for a round trip) exchange file, all or nothing. Every row's
    ``province`` must be empty or ``province``; positions must lie in the 京津冀 box, and a
    Beijing row in a Beijing district."""
    config = load_config()
    sender = _province(province)
    options = ReadOptions(origin=f"exchange:{sender}:{path.name}", exchange_province=sender,
                          bbox=config.exchange.bbox, area="京津冀范围", require_ids=True)  # fmt: skip
    return import_file(session, path, options, actor=actor, today=today or clock_today(),
                       action="invasive_record.exchange_import", audit_extra={"province": sender})  # fmt: skip
