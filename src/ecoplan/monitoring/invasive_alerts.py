"""Alert rules on invasive-species records, each switched on and parameterised in
``data/invasive.toml`` (``[rules.*]``):

- ``quarantine``: any positive record of a quarantine species (松材线虫 positive sample = 疫点,
  苹果蠹蛾 any catch): Beijing is on the edge of their range, so every find matters;
- ``new_township``: the first positive record of a species in a township (in the district when
  the record has no township) that no earlier positive record of it reached;
- ``threshold``: a record's value per effort (daily catch for trap methods, the value per check
  for counts and densities) strictly above the species' threshold for that method;
- ``near_protected``: a positive record inside, or within ``distance_m`` of, a nature reserve or
  other protected area of the loaded reference layers.

Only Beijing records are judged (a partner province's exchange records inform the joint map,
not Beijing's duty units). Each alert is keyed (``InvasiveAlert.key``) so running the rules again
raises nothing twice, and notifies the species' responsible unit and the record's district
government (``Notification.key`` unique per alert and unit). Distances are measured in an
azimuthal equidistant projection centred on Beijing: exact from its centre and within 0.01 % at
100 km, where the equal-area projection used for areas is 1.7 % off along parallels.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.cases.layers import active_features
from ecoplan.cases.reminders import measure_for
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.monitoring.invasive_config import InvasiveConfig, load_config
from ecoplan.monitoring.invasive_models import InvasiveAlert, InvasiveRecord, InvasiveSpecies
from ecoplan.monitoring.invasive_rates import (
    check_days,
    is_positive,
    presence_methods,
    rate,
    thresholds_of,
)
from ecoplan.supervision.models import Notification
from ecoplan.supervision.reminders import send_emails
from ecoplan.units.models import Unit

# metres, exact distances from the city centre (天安门 is at about 116.39 E, 39.91 N)
LOCAL_METRIC = CRS.from_proj4(
    "+proj=aeqd +lat_0=40.0 +lon_0=116.4 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)
READ_ALL = frozenset({"admin", "coordinator", "leader"})
HANDLE_ANY = frozenset({"admin", "coordinator"})
NOTE_PREFIX = "invasive-alert:"


@dataclass
class AlertRun:
    alerts: list[InvasiveAlert] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    emailed: int = 0


@dataclass
class _Found:
    key: str
    rule: str
    record: InvasiveRecord
    message: str


def _place(r: InvasiveRecord) -> str:
    return f"{r.district_name or ''}{r.township or ''}" or f"({r.lon:.4f}, {r.lat:.4f})"


def _what(config: InvasiveConfig, r: InvasiveRecord) -> str:
    spec = config.methods.get(r.method)
    label = spec.label if spec else r.method
    return f"{label} {r.value:g} {r.value_unit},{r.observed_on.isoformat()},记录 {r.record_id}"


def _township_key(species: InvasiveSpecies, district: str, township: str) -> str:
    key = f"new_township:{species.key}:{district}:{township or '*'}"
    if len(key) > 160:  # a long township name: its digest keeps the key unique and short
        key = f"new_township:{species.key}:{district}:{hashlib.sha1(township.encode()).hexdigest()[:16]}"
    return key


def evaluate(
    session: Session, records: Sequence[InvasiveRecord], *, today: dt.date, actor: str
) -> AlertRun:
    """Run every enabled rule on ``records`` (already stored); store and notify what is new."""
    config = load_config()
    judged = [r for r in records if r.province == "北京" and r.district_code]
    if not judged:
        return AlertRun()
    species = {s.id: s for s in session.scalars(select(InvasiveSpecies))}
    found: list[_Found] = []
    if config.rule_on("quarantine"):
        found += _quarantine(config, species, judged)
    if config.rule_on("new_township"):
        found += _new_township(session, config, species, judged)
    if config.rule_on("threshold"):
        found += _threshold(session, config, species, judged)
    if config.rule_on("near_protected"):
        found += _near_protected(session, config, species, judged)
    return _store(session, config, species, found, today=today, actor=actor)


def run_alerts(
    session: Session, *, today: dt.date, actor: str, year: int | None = None
) -> AlertRun:
    """The rules over every stored Beijing record (of ``year``): after a rule change or a new
    reserve layer. Alerts already raised are not raised again."""
    query = select(InvasiveRecord).where(InvasiveRecord.province == "北京")
    if year is not None:
        query = query.where(
            InvasiveRecord.observed_on >= dt.date(year, 1, 1),
            InvasiveRecord.observed_on <= dt.date(year, 12, 31),
        )
    records = list(session.scalars(query.order_by(InvasiveRecord.observed_on, InvasiveRecord.id)))
    run = evaluate(session, records, today=today, actor=actor)
    audit.record(session, actor=actor, action="invasive_alert.run", entity_type="invasive_alert", entity_id="*",
                 after={"records": len(records), "alerts": [a.key for a in run.alerts], "year": year})  # fmt: skip
    return run


def _quarantine(config: InvasiveConfig, species: dict[int, InvasiveSpecies],
                records: Sequence[InvasiveRecord]) -> list[_Found]:  # fmt: skip
    label = config.rules["quarantine"].label
    out = []
    for r in records:
        sp = species[r.species_id]
        if sp.quarantine and is_positive(config, r.method, r.value):
            point = "疫点" if r.method == "positive_sample" else "疫情"
            out.append(_Found(f"quarantine:{r.id}", "quarantine", r,
                              f"【{label}】{_place(r)}发现{sp.name_cn}({_what(config, r)}),"
                              f"疑似新{point},请立即核实、上报并按检疫规定处置"))  # fmt: skip
    return out


def _new_township(session: Session, config: InvasiveConfig, species: dict[int, InvasiveSpecies],
                  records: Sequence[InvasiveRecord]) -> list[_Found]:  # fmt: skip
    """One alert per (species, place): the earliest positive record of the batch at a place,
    unless an earlier positive record (by date, then by id) of the species is stored there."""
    label = config.rules["new_township"].label
    firsts: dict[tuple[int, str, str], InvasiveRecord] = {}
    for r in sorted(records, key=lambda r: (r.observed_on, r.id)):
        if is_positive(config, r.method, r.value):
            firsts.setdefault((r.species_id, r.district_code or "", r.township or ""), r)
    seen_methods = presence_methods(config)
    out = []
    for (species_id, district, township), r in firsts.items():
        query = select(InvasiveRecord.id).where(
            InvasiveRecord.species_id == species_id,
            InvasiveRecord.district_code == district,
            InvasiveRecord.method.in_(seen_methods),
            InvasiveRecord.value > 0,
            or_(InvasiveRecord.observed_on < r.observed_on,
                and_(InvasiveRecord.observed_on == r.observed_on, InvasiveRecord.id < r.id)),
        )  # fmt: skip
        if township:  # else: the district is the place, and any earlier record in it counts
            query = query.where(InvasiveRecord.township == township)
        if session.scalar(query.limit(1)) is not None:
            continue
        sp = species[species_id]
        where = f"{r.district_name}{township}" if township else f"{r.district_name}(未注明乡镇)"
        out.append(_Found(_township_key(sp, district, township), "new_township", r,
                          f"【{label}】{sp.name_cn}首次在{where}发现({_what(config, r)}),"
                          f"请核实发生范围并组织除治"))  # fmt: skip
    return out


def _threshold(session: Session, config: InvasiveConfig, species: dict[int, InvasiveSpecies],
               records: Sequence[InvasiveRecord]) -> list[_Found]:  # fmt: skip
    label = config.rules["threshold"].label
    days = check_days(session, config, records)
    out = []
    for r in records:
        sp = species[r.species_id]
        limit = thresholds_of(config, sp).get(r.method)
        if limit is None:
            continue
        n = days.get(r.id)
        value = rate(config, r, n)
        if value <= limit:  # strictly above: a value at the threshold is not an alert
            continue
        spec = config.methods.get(r.method)
        daily = spec is not None and spec.daily
        per = f"{r.value_unit}/日" if daily else r.value_unit
        basis = "" if not daily else f",按 {n:g} 天计" if n else ",未给出诱测天数,按 1 天计"
        label_m = spec.label if spec else r.method
        out.append(_Found(f"threshold:{r.id}", "threshold", r,
                          f"【{label}】{_place(r)}{sp.name_cn}{label_m} {value:.4g} {per}{basis},"
                          f"超过阈值 {limit:g} {per}({_what(config, r)})"))  # fmt: skip
    return out


def _near_protected(session: Session, config: InvasiveConfig, species: dict[int, InvasiveSpecies],
                    records: Sequence[InvasiveRecord]) -> list[_Found]:  # fmt: skip
    rule = config.rules["near_protected"]
    distance = float(rule.distance_m or 0.0)
    positives = [r for r in records if is_positive(config, r.method, r.value)]
    if not positives:
        return []
    features = active_features(session, tuple(rule.layer_kinds))
    if not len(features):
        return []
    areas = np.asarray(gpd.GeoSeries(features.metric, crs=EQUAL_AREA).to_crs(LOCAL_METRIC).values)
    points = np.asarray(gpd.GeoSeries(shapely.points([r.lon for r in positives], [r.lat for r in positives]),
                                      crs=WGS84).to_crs(LOCAL_METRIC).values)  # fmt: skip
    tree = shapely.STRtree(areas)
    left, right = tree.query(points, predicate="dwithin", distance=distance)
    gaps = shapely.distance(points[left], areas[right])
    nearest: dict[int, tuple[float, int]] = {}
    for i, j, gap in zip(left.tolist(), right.tolist(), gaps.tolist(), strict=True):
        if i not in nearest or gap < nearest[i][0]:
            nearest[i] = (gap, j)
    out = []
    for i, (gap, j) in sorted(nearest.items()):
        r = positives[i]
        sp = species[r.species_id]
        name = features.names[j]
        where = f"位于{name}内" if gap == 0 else f"距{name}约 {gap:.0f} m(预警距离 {distance:g} m)"
        out.append(_Found(f"near_protected:{r.id}", "near_protected", r,
                          f"【{rule.label}】{_place(r)}{sp.name_cn}阳性记录{where}({_what(config, r)}),"
                          f"请会同保护地管理机构处置"))  # fmt: skip
    return out


def _store(session: Session, config: InvasiveConfig, species: dict[int, InvasiveSpecies], found: list[_Found],
           *, today: dt.date, actor: str) -> AlertRun:  # fmt: skip
    run = AlertRun()
    if not found:
        return run
    keys = [f.key for f in found]
    known = set(session.scalars(select(InvasiveAlert.key).where(InvasiveAlert.key.in_(keys))))
    districts = {r.district_code for r in (f.record for f in found) if r.district_code}
    unit_by_code = {
        u.code: u.id for u in session.scalars(select(Unit).where(Unit.code.in_(sorted(districts))))
    }
    measure = measure_for(session, config.measure_words)
    for f in found:
        if f.key in known:
            continue
        known.add(f.key)
        sp = species[f.record.species_id]
        alert = InvasiveAlert(key=f.key, rule=f.rule, species_id=sp.id, record_id=f.record.id, unit_id=sp.unit_id,
                              message=f.message, raised_on=today, state="open")  # fmt: skip
        session.add(alert)
        session.flush()
        run.alerts.append(alert)
        recipients = [sp.unit_id, unit_by_code.get(f.record.district_code or "")]
        units = list(dict.fromkeys(u for u in recipients if u is not None))  # once each, in order
        for unit_id in units:
            note = Notification(key=f"{NOTE_PREFIX}{alert.id}:{unit_id}", kind="alert", unit_id=unit_id,
                                measure_id=measure.id if measure else None,
                                message=f"【外来入侵物种预警】{f.message}")  # fmt: skip
            session.add(note)
            run.notifications.append(note)
        audit.record(session, actor=actor, action="invasive_alert.raise", entity_type="invasive_alert",
                     entity_id=alert.id, after={"key": alert.key, "rule": alert.rule,
                                                "record": f.record.record_id, "units": units},
                     context={"rules": config.key})  # fmt: skip
    session.flush()
    run.emailed = send_emails(session, run.notifications)
    return run


# ------------------------------------------------------------------------------ handling


def _district_unit_id(session: Session, alert: InvasiveAlert) -> int | None:
    record = session.get(InvasiveRecord, alert.record_id)
    if record is None or not record.district_code:
        return None
    return session.scalar(select(Unit.id).where(Unit.code == record.district_code))


def can_view(session: Session, account: Account, alert: InvasiveAlert) -> bool:
    if account.role in READ_ALL:
        return True
    return (
        account.role == "unit"
        and account.unit_id is not None
        and account.unit_id in (alert.unit_id, _district_unit_id(session, alert))
    )


def may_handle(session: Session, account: Account, alert: InvasiveAlert) -> bool:
    """The species' unit, the record's district, the coordinator or the admin (not leaders:
    they read)."""
    if account.role in HANDLE_ANY:
        return True
    return account.role == "unit" and can_view(session, account, alert)


def get_alert(session: Session, account: Account, alert_id: int) -> InvasiveAlert:
    alert = session.get(InvasiveAlert, alert_id)
    if alert is None or not can_view(session, account, alert):
        raise NotFoundError(f"预警 {alert_id} 不存在或无权查看")
    return alert


def visible_alerts(
    session: Session, account: Account, *, state: str | None = None, species_key: str | None = None
) -> list[InvasiveAlert]:
    """Alerts the account may read, newest first."""
    query = select(InvasiveAlert).order_by(InvasiveAlert.raised_on.desc(), InvasiveAlert.id.desc())
    if state:
        query = query.where(InvasiveAlert.state == state)
    if species_key:
        query = query.join(InvasiveSpecies).where(InvasiveSpecies.key == species_key)
    if account.role not in READ_ALL:
        unit_id = account.unit_id if account.role == "unit" else None
        if unit_id is None:
            return []
        code = session.scalar(select(Unit.code).where(Unit.id == unit_id))
        query = query.join(InvasiveRecord, InvasiveRecord.id == InvasiveAlert.record_id).where(
            or_(InvasiveAlert.unit_id == unit_id, InvasiveRecord.district_code == code)
        )
    return list(session.scalars(query))


def handle_alert(session: Session, account: Account, alert_id: int, note: str) -> InvasiveAlert:
    """Mark an alert handled with what was done (核实、除治、上报 …); a note is required."""
    alert = get_alert(session, account, alert_id)
    if not may_handle(session, account, alert):
        raise PermissionDenied(f"无权处理预警 {alert_id}")
    if alert.state == "handled":
        raise ValidationError(f"预警 {alert_id} 已由 {alert.handled_by} 处理")
    note = note.strip()
    if not note:
        raise ValidationError("处理预警须填写处置情况")
    alert.state = "handled"
    alert.handled_note = note
    alert.handled_by = account.actor
    session.flush()
    audit.record(session, actor=account.actor, action="invasive_alert.handle", entity_type="invasive_alert",
                 entity_id=alert.id, before={"state": "open"},
                 after={"state": "handled", "note": note})  # fmt: skip
    return alert
