"""A patrol and what it found (task 6.4: 各相关区做好自然保护区日常管理和例行巡查): the GPX
track is recorded as a patrol (``patrols.import_patrol``) and every waypoint the patroller
marked on the way becomes a clue of kind ``patrol_finding`` in the clue workflow, placed at the
waypoint, with the patrol named in its facts. One transaction: a bad waypoint refuses the patrol
too."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy.orm import Session

from ecoplan.cases.batches import BatchResult, file_batch
from ecoplan.cases.importing import ClueRecords
from ecoplan.cases.patrols import BEIJING, import_patrol, read_gpx
from ecoplan.cases.register_models import Patrol


@dataclass
class PatrolImport:
    patrol: Patrol
    findings: BatchResult | None


def import_patrol_with_findings(session: Session, data: bytes, name: str, *, area_feature_id: int,
                                patroller: str, unit_id: int | None, actor: str,
                                today: dt.date | None = None) -> PatrolImport:  # fmt: skip
    track = read_gpx(data, name)
    stem = hashlib.sha256(data).hexdigest()[:10]  # codes stay unique per file without a patrol id
    codes = [f"XC-{stem}-{i + 1:02d}" for i in range(len(track.waypoints))]
    patrol = import_patrol(session, data, name, area_feature_id=area_feature_id, patroller=patroller,
                           unit_id=unit_id, actor=actor, findings=codes)  # fmt: skip
    if not codes:
        return PatrolImport(patrol, None)
    started = patrol.started_at.astimezone(BEIJING)
    records = ClueRecords(
        codes=codes,
        geoms=np.asarray([shapely.Point(w.lon, w.lat) for w in track.waypoints], dtype=object),
        attrs=[{"activity_type": "other", "source": "patrol", "period": started.strftime("%Y-%m"),
                "legal_basis": "", "note": w.description} for w in track.waypoints],
        facts=[{"巡查": f"{patrol.area_name} {started:%Y-%m-%d %H:%M} {patroller}", "航点": w.name,
                "描述": w.description,
                "标记时间": w.time.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if w.time else ""}
               for w in track.waypoints],
    )  # fmt: skip
    result = file_batch(session, records, kind="patrol_finding", actor=actor, today=today,
                        title=f"{patrol.area_name} 巡查发现({started:%Y-%m-%d},{patroller})",
                        source={"patrol_id": patrol.id, "sha256": patrol.sha256})  # fmt: skip
    return PatrolImport(patrol, result)
