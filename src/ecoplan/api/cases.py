"""REST API for problem clues: lists, one clue with its steps and photos, workflow steps with
photo upload, the clustered map layer, statistics, batch import and reference layers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from ecoplan.accounts.models import Account
from ecoplan.api.uploads import uploaded_file
from ecoplan.cases import queries, workflow
from ecoplan.cases.models import CLUE_STATES, Clue, CluePhoto
from ecoplan.config import get_settings
from ecoplan.config import today as _today
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.supervision import evidence
from ecoplan.web.auth import CurrentAccount, Db, Id, current_account

router = APIRouter(prefix="/api/v1", tags=["问题线索"], dependencies=[Depends(current_account)])
MAX_PHOTOS = 9


class ClueOut(BaseModel):
    id: int
    code: str
    kind: str
    state: str
    state_label: str
    district_name: str | None
    township: str | None
    activity_type: str
    area_m2: float
    lon: float
    lat: float
    due_on: dt.date | None
    late: bool
    version: int

    @classmethod
    def of(cls, clue: Clue, today: dt.date) -> ClueOut:
        return cls(id=clue.id, code=clue.code, kind=clue.kind, state=clue.state, state_label=CLUE_STATES[clue.state],
                   district_name=clue.district_name, township=clue.township, activity_type=clue.activity_type,
                   area_m2=round(clue.area_km2 * 1e6, 1), lon=clue.lon, lat=clue.lat, due_on=clue.due_on,
                   late=bool(clue.due_on and clue.state != "closed" and clue.due_on < today),
                   version=clue.version)  # fmt: skip


class ClueList(BaseModel):
    total: int
    items: list[ClueOut]


class ClueDetail(ClueOut):
    geometry: dict[str, Any]
    facts: dict[str, Any]
    refs: list[dict[str, Any]]
    related: list[dict[str, Any]]
    plan: dict[str, Any]
    events: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    actions: list[str]

    @classmethod
    def full(cls, clue: Clue, account: Account, today: dt.date) -> ClueDetail:
        base = ClueOut.of(clue, today).model_dump()
        events = [{"action": e.action, "from": e.from_state, "to": e.to_state, "actor": e.actor, "reason": e.reason,
                   "at": e.at.isoformat(), "data": e.data} for e in clue.events]  # fmt: skip
        photos = [{"id": p.id, "name": p.name, "taken_at": p.taken_at.isoformat() if p.taken_at else None,
                   "lon": p.lon, "lat": p.lat, "distance_m": p.distance_m, "flags": p.flags} for p in clue.photos]  # fmt: skip
        return cls(**base, geometry=clue.geometry, facts=clue.facts or {}, refs=clue.refs or [],
                   related=clue.related or [], plan=clue.plan or {}, events=events, photos=photos,
                   actions=workflow.actions_for(account, clue))  # fmt: skip


@router.get("/clues", response_model=ClueList, summary="线索列表(按权限过滤)")
def list_clues(session: Db, account: CurrentAccount, kind: str | None = None, state: str | None = None,
               district: str | None = None, late: bool = False, batch: int | None = None, q: str | None = None,
               offset: Annotated[int, Query(ge=0)] = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> ClueList:  # fmt: skip
    today = _today()
    flt = queries.ClueFilter(kind, state, district, late, batch, q)
    total, rows = queries.list_clues(session, account, flt, today, offset=offset, limit=limit)
    return ClueList(total=total, items=[ClueOut.of(c, today) for c in rows])


@router.get("/clues/map", summary="地图图层: 视野内线索点，数量多时为聚合")
def clue_map(session: Db, account: CurrentAccount, bbox: str, kind: str | None = None,
             state: str | None = None, late: bool = False) -> dict[str, Any]:  # fmt: skip
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox.split(","))
    except ValueError:
        raise ValidationError("bbox 应为 最小经度,最小纬度,最大经度,最大纬度") from None
    flt = queries.ClueFilter(kind=kind, state=state, late=late)
    return queries.map_layer(session, account, _today(), (minx, miny, maxx, maxy), flt)


@router.get("/clues/stats", summary="线索统计: 按类型、区、状态、逾期")
def clue_stats(session: Db, account: CurrentAccount, kind: str | None = None) -> dict[str, Any]:
    s = queries.stats(session, account, _today(), queries.ClueFilter(kind=kind))
    return {"total": s.total, "late": s.late, "by_state": s.by_state, "by_kind": s.by_kind,
            "by_district": s.by_district, "late_by_district": s.late_by_district}  # fmt: skip


@router.get(
    "/clues/{clue_id}",
    response_model=ClueDetail,
    summary="一条线索: 几何、叠加结果、办理过程、照片",
)
def clue_detail(clue_id: Id, session: Db, account: CurrentAccount) -> ClueDetail:
    return ClueDetail.full(workflow.get_clue(session, account, clue_id), account, _today())


@router.post("/clues/{clue_id}/steps", response_model=ClueDetail, summary="办理一步(可附现场照片)")
async def clue_step(
    clue_id: Id, session: Db, account: CurrentAccount,
    action: Annotated[str, Form()], reason: Annotated[str, Form()] = "",
    version: Annotated[int | None, Form()] = None, responsible: Annotated[str, Form()] = "",
    measures: Annotated[str, Form()] = "", deadline: Annotated[dt.date | None, Form()] = None,
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> ClueDetail:  # fmt: skip
    uploads = await read_photos(photos or [])
    plan = (workflow.RectificationPlan(responsible, measures, deadline)
            if action == "plan" and deadline is not None else None)  # fmt: skip
    result = workflow.step(session, account, clue_id, action, reason=reason, plan=plan, photos=uploads,
                           expected_version=version)  # fmt: skip
    session.refresh(result.clue, ["events", "photos"])
    return ClueDetail.full(result.clue, account, _today())


async def read_photos(files: Sequence[StarletteUpload]) -> list[workflow.PhotoUpload]:
    """Uploaded files read with a size cap (one byte over the limit is enough to refuse)."""
    files = [f for f in files if f.filename]
    if len(files) > MAX_PHOTOS:
        raise ValidationError(f"一次最多上传 {MAX_PHOTOS} 张照片")
    limit = get_settings().evidence_max_bytes + 1
    return [workflow.PhotoUpload(await f.read(limit), f.filename or "") for f in files]


@router.get("/clue-photos/{photo_id}", response_class=FileResponse, summary="下载现场照片")
def clue_photo(photo_id: Id, session: Db, account: CurrentAccount) -> FileResponse:
    photo = session.get(CluePhoto, photo_id)
    if photo is None or not workflow.can_view(account, photo.clue):
        raise NotFoundError("照片不存在或无权查看")
    return FileResponse(evidence.path_of(photo.sha256), media_type=photo.mime, filename=photo.name)


def may_import(account: Account, kind: str) -> bool:
    """The coordinator and admin import any batch; a unit imports the kinds it verifies."""
    from ecoplan.cases.rules import load_rules

    if account.role in ("coordinator", "admin"):
        return True
    rule = load_rules().kind(kind)
    return (
        account.role == "unit" and account.unit is not None and account.unit.code == rule.verifier
    )


@router.post("/clue-batches", summary="导入线索批次(GeoJSON/Shapefile zip/GeoPackage/XLSX)")
async def import_batch(session: Db, account: CurrentAccount, file: Annotated[UploadFile, File()],
                       kind: Annotated[str, Form()], title: Annotated[str, Form()],
                       crs: Annotated[str | None, Form()] = None) -> dict[str, Any]:  # fmt: skip
    return await import_upload(session, account, file, kind, title, crs)


async def import_upload(session: Session, account: Account, file: StarletteUpload, kind: str, title: str,
                        crs: str | None) -> dict[str, Any]:  # fmt: skip
    """Check the right to import, store the upload under its own (cleaned) name in a private
    temporary folder, and file it; shared by the API and the page's form."""
    from ecoplan.cases.batches import import_file

    if not may_import(account, kind):
        raise PermissionDenied("无权导入该类线索批次")
    async with uploaded_file(file, (".geojson", ".json", ".zip", ".gpkg", ".xlsx"),
                             "只接受 GeoJSON、Shapefile(zip)、GeoPackage 或 XLSX") as path:  # fmt: skip
        result = import_file(session, path, kind=kind, title=title.strip() or path.name, actor=account.actor,
                             crs=crs, today=_today(), display_name=path.name)  # fmt: skip
    return {"batch_id": result.batch.id, "count": result.count, "by_district": result.by_district,
            "repaired": result.repaired, "same_place": result.duplicates, "in_redline": result.in_redline}  # fmt: skip


class GeometryIn(BaseModel):
    geometry: dict[str, Any]  # GeoJSON geometry in WGS84


@router.get("/ref-layers", summary="在用的参照图层(生态保护红线、自然保护地及功能区…)")
def ref_layers(session: Db) -> list[dict[str, Any]]:
    from ecoplan.cases.layers import list_layers

    return [{"id": layer.id, "kind": layer.kind, "name": layer.name, "version": layer.version,
             "features": len(layer.features), "source": layer.source} for layer in list_layers(session)]  # fmt: skip


@router.post("/ref-layers/check", summary="任一几何与参照图层叠加: 是否在内、重叠面积、所在功能区")
def check_geometry(body: GeometryIn, session: Db) -> list[dict[str, Any]]:
    from ecoplan.cases.layers import check_geometry as check

    return check(session, body.geometry)
