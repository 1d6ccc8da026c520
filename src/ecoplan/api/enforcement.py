"""REST API for the enforcement registers of measures 5.3 (陆生) and 5.4 (水生): cases and their
stages, trade inspections, the year's figures, the 台账 download and its import.

Thin: every rule (who may act, field checks, stage order) is ``ecoplan.cases.enforcement``'s.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from ecoplan.accounts.models import Account
from ecoplan.api.uploads import uploaded_file
from ecoplan.cases import enforcement as enf
from ecoplan.cases.queries import unit_names
from ecoplan.cases.register_models import EnforcementCase, Inspection
from ecoplan.config import today
from ecoplan.errors import PermissionDenied, ValidationError
from ecoplan.web.auth import MAX_ID, CurrentAccount, Db, Id, current_account

router = APIRouter(prefix="/api/v1", tags=["执法监管"], dependencies=[Depends(current_account)])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# dt.date accepts years 1..9999; a register of this plan needs far fewer
OptionalYear = Annotated[int | None, Query(ge=2000, le=2100, description="年份(按立案日期)")]
RowId = Annotated[int | None, Field(default=None, ge=1, le=MAX_ID)]
# the roles that read every case (see enforcement.can_read): the 台账 holds every unit's cases
LEDGER_ROLES = ("admin", "coordinator", "leader")


# --- bodies -------------------------------------------------------------------------------------


class _Body(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text: refused here as bad input, not a 500 from the driver
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("不能包含 NUL 控制字符")
        return value


class SpeciesIn(_Body):
    name: str = Field(max_length=200, description="中文名或学名")
    quantity: float | None = Field(default=None, description="数量(只/尾/株/千克…),可不填")
    unit: str = Field(default="", max_length=20, description="数量单位,如 只、尾、千克")


class CaseIn(_Body):
    case_no: str = Field(max_length=200, description="案件编号(全局唯一)")
    domain: str = Field(max_length=20, description="terrestrial 陆生 | aquatic 水生")
    case_type: str = Field(max_length=100, description="案件类型,见 enforcement.CASE_TYPES")
    title: str = Field(max_length=1000, description="案由")
    filed_on: dt.date = Field(description="立案日期")
    lon: float | None = Field(default=None, description="经度(WGS84,十进制度)")
    lat: float | None = Field(default=None, description="纬度(WGS84,十进制度)")
    discovered_by: str = Field(
        max_length=20, description="patrol 巡护 | clue 线索 | report 举报 | inspection 检查"
    )
    species: list[SpeciesIn] = Field(default_factory=list, max_length=200)
    clue_id: RowId = None


class StageIn(_Body):
    to_stage: str = Field(
        max_length=20, description="inquiry 调查 | decided 处罚决定 | closed 结案"
    )
    on: dt.date = Field(description="进入该阶段的日期")
    decision: str = Field(default="", max_length=4000, description="处罚决定(仅处罚决定阶段)")
    penalty_yuan: float | None = Field(default=None, description="处罚金额,元(仅处罚决定阶段)")
    transferred: bool = Field(default=False, description="移送公安(仅处罚决定阶段)")


class InspectionIn(_Body):
    domain: str = Field(max_length=20, description="terrestrial 陆生 | aquatic 水生")
    venue: str = Field(max_length=1000, description="检查场所")
    venue_type: str = Field(
        max_length=20, description="market 市场 | online 网络平台 | restaurant 餐饮 | other 其他"
    )
    inspected_on: dt.date = Field(description="检查日期")
    items_checked: int = Field(ge=0, le=MAX_ID, description="检查项数")
    violations: int = Field(ge=0, le=MAX_ID, description="发现问题数")
    case_id: RowId = None
    note: str = Field(default="", max_length=4000)


# --- responses ----------------------------------------------------------------------------------


class CaseOut(BaseModel):
    id: int
    case_no: str
    domain: str
    domain_label: str
    measure: str
    case_type: str
    legal_basis: str
    unit: str
    title: str
    district_name: str | None
    lon: float | None
    lat: float | None
    discovered_by: str
    discovered_label: str
    clue_id: int | None
    species: list[dict[str, Any]]
    stage: str
    stage_label: str
    filed_on: dt.date
    decided_on: dt.date | None
    closed_on: dt.date | None
    penalty_yuan: float
    decision: str
    transferred: bool

    @classmethod
    def of(cls, case: EnforcementCase, units: Mapping[int, str]) -> CaseOut:
        return cls(
            id=case.id, case_no=case.case_no, domain=case.domain,
            domain_label=enf.DOMAINS.get(case.domain, case.domain),
            measure=enf.MEASURE_OF_DOMAIN.get(case.domain, ""), case_type=case.case_type,
            legal_basis=enf.CASE_TYPES.get(case.case_type, ""), unit=units.get(case.unit_id, ""),
            title=case.title, district_name=case.district_name, lon=case.lon, lat=case.lat,
            discovered_by=case.discovered_by,
            discovered_label=enf.DISCOVERY.get(case.discovered_by, case.discovered_by),
            clue_id=case.clue_id, species=list(case.species or []), stage=case.stage,
            stage_label=enf.STAGE_LABELS.get(case.stage, case.stage), filed_on=case.filed_on,
            decided_on=case.decided_on, closed_on=case.closed_on, penalty_yuan=case.penalty_yuan,
            decision=case.decision, transferred=case.transferred,
        )  # fmt: skip


class CaseDetail(CaseOut):
    stage_entered_on: dt.date


class CaseList(BaseModel):
    total: int
    items: list[CaseOut]


class InspectionOut(BaseModel):
    id: int
    domain: str
    unit: str
    venue: str
    venue_type: str
    inspected_on: dt.date
    items_checked: int
    violations: int
    case_id: int | None
    note: str


class ImportOut(BaseModel):
    count: int
    case_nos: list[str]
    unlisted_species: list[str]


# --- helpers shared with the pages ----------------------------------------------------------------


def stage_key(value: str) -> str:
    """A stage filter given as key (filed …) or label (立案 …)."""
    keys = {**{k: k for k in enf.STAGES}, **{v: k for k, v in enf.STAGE_LABELS.items()},
            **enf.STAGE_ALIASES}  # fmt: skip
    text = value.strip()
    if text not in keys:
        raise ValidationError(f"阶段: “{text}”不是 {'/'.join(enf.STAGE_LABELS.values())} 之一")
    return keys[text]


def cases_for(
    session: Session, account: Account, *, year: int | None = None, domain: str | None = None,
    stage: str | None = None,
) -> list[EnforcementCase]:  # fmt: skip
    """The cases the account may read, optionally of one year, domain and current stage."""
    rows = enf.list_cases(session, account, year=year, domain=domain or None)
    if stage:
        key = stage_key(stage)
        rows = [c for c in rows if c.stage == key]
    return rows


def may_export_ledger(account: Account) -> bool:
    """The 台账 lists every unit's cases, so it goes to the roles that read every case.

    ``export_ledger_xlsx`` takes no account; until it filters by one, a unit account (which
    reads only its own cases) sees its cases on the page and through the list API instead.
    """
    return account.role in LEDGER_ROLES


def ledger_response(session: Session, account: Account, year: int) -> Response:
    if not may_export_ledger(account):
        raise PermissionDenied(
            "执法案件台账包含各承办单位的案件,仅限管理员、督办和领导账号下载;本单位案件可在列表中查看"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = enf.export_ledger_xlsx(session, Path(tmp) / "ledger.xlsx", year)
        data = path.read_bytes()
    name = quote(f"执法案件台账_{year}.xlsx")
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})  # fmt: skip


async def import_upload(
    session: Session, account: Account, file: StarletteUpload
) -> list[EnforcementCase]:
    """Read the upload with a size cap, store it under its own (cleaned) name in a private
    temporary folder and import it all or nothing; shared by the API and the page's form."""
    async with uploaded_file(file, (".xlsx",), "执法案件台账须为 .xlsx 文件") as path:
        return enf.import_cases_xlsx(session, account, path)


def import_summary(cases: list[EnforcementCase]) -> ImportOut:
    unlisted = [name for c in cases for name in enf.unlisted_names(c.species or [])]
    return ImportOut(count=len(cases), case_nos=[c.case_no for c in cases],
                     unlisted_species=list(dict.fromkeys(unlisted)))  # fmt: skip


def _detail(session: Session, case: EnforcementCase) -> CaseDetail:
    base = CaseOut.of(case, unit_names(session)).model_dump()
    return CaseDetail(**base, stage_entered_on=enf.stage_entered_on(session, case))


# --- routes ---------------------------------------------------------------------------------------


@router.get("/enforcement/cases", response_model=CaseList, summary="执法案件列表(按权限过滤)")
def list_cases(
    session: Db, account: CurrentAccount, year: OptionalYear = None,
    domain: Annotated[str | None, Query(max_length=20, description="terrestrial | aquatic | 陆生 | 水生")] = None,
    stage: Annotated[str | None, Query(max_length=20, description="filed | inquiry | decided | closed 或中文")] = None,
) -> CaseList:  # fmt: skip
    rows = cases_for(session, account, year=year, domain=domain, stage=stage)
    units = unit_names(session)
    return CaseList(total=len(rows), items=[CaseOut.of(c, units) for c in rows])


@router.get("/enforcement/cases/{case_id}", response_model=CaseDetail, summary="一件执法案件")
def case_detail(case_id: Id, session: Db, account: CurrentAccount) -> CaseDetail:
    return _detail(session, enf.get_case(session, account, case_id))


@router.post("/enforcement/cases", response_model=CaseDetail, status_code=201,
             summary="登记执法案件(立案,承办单位账号)")  # fmt: skip
def open_case(body: CaseIn, session: Db, account: CurrentAccount) -> CaseDetail:
    species = [s.model_dump() for s in body.species]  # an empty unit is left out by the domain
    case = enf.open_case(
        session, account, case_no=body.case_no, domain=body.domain, case_type=body.case_type,
        title=body.title, filed_on=body.filed_on, lon=body.lon, lat=body.lat,
        discovered_by=body.discovered_by, species=species, clue_id=body.clue_id,
    )  # fmt: skip
    return _detail(session, case)


@router.post("/enforcement/cases/{case_id}/stage", response_model=CaseDetail,
             summary="推进案件阶段: 立案 → 调查 → 处罚决定 → 结案")  # fmt: skip
def advance_case(case_id: Id, body: StageIn, session: Db, account: CurrentAccount) -> CaseDetail:
    case = enf.advance_case(
        session, account, case_id, to_stage=body.to_stage, on=body.on, decision=body.decision,
        penalty_yuan=body.penalty_yuan, transferred=body.transferred,
    )  # fmt: skip
    return _detail(session, case)


@router.post("/enforcement/inspections", response_model=InspectionOut, status_code=201,
             summary="登记交易监督检查")  # fmt: skip
def record_inspection(body: InspectionIn, session: Db, account: CurrentAccount) -> InspectionOut:
    item: Inspection = enf.record_inspection(
        session, account, domain=body.domain, venue=body.venue, venue_type=body.venue_type,
        inspected_on=body.inspected_on, items_checked=body.items_checked,
        violations=body.violations, case_id=body.case_id, note=body.note,
    )  # fmt: skip
    return InspectionOut(
        id=item.id, domain=item.domain, unit=unit_names(session).get(item.unit_id, ""),
        venue=item.venue, venue_type=item.venue_type, inspected_on=item.inspected_on,
        items_checked=item.items_checked, violations=item.violations, case_id=item.case_id,
        note=item.note,
    )  # fmt: skip


@router.get("/enforcement/stats", summary="年度执法统计(5.3 陆生 / 5.4 水生)")
def stats(session: Db, year: OptionalYear = None) -> dict[str, Any]:
    # any signed-in account (the router's dependency) sees the figures: no case details in them
    return enf.case_stats(session, year or today().year)


@router.get("/enforcement/ledger.xlsx", response_class=Response,
            summary="下载年度执法案件台账(xlsx: 执法案件、监督检查)")  # fmt: skip
def ledger(session: Db, account: CurrentAccount, year: OptionalYear = None) -> Response:
    return ledger_response(session, account, year or today().year)


@router.post("/enforcement/import", response_model=ImportOut,
             summary="导入执法案件台账(xlsx,全部通过才入库)")  # fmt: skip
async def import_ledger(session: Db, account: CurrentAccount,
                        file: Annotated[UploadFile, File()]) -> ImportOut:  # fmt: skip
    return import_summary(await import_upload(session, account, file))
