"""Enforcement pages (measures 5.3 陆生 / 5.4 水生): the year's figures, the cases the account
may read, one case with its species and stages, and, for the units that handle cases, the forms
to file a case, advance it, record a trade inspection and import a 台账.

Thin: the forms are parsed here and handed to ``ecoplan.cases.enforcement``, which checks the
fields and the right to act; the pages only decide which forms are worth showing.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from ecoplan.accounts.models import Account
from ecoplan.api.enforcement import (
    cases_for,
    import_summary,
    import_upload,
    ledger_response,
    may_export_ledger,
)
from ecoplan.api.uploads import required_upload
from ecoplan.cases import enforcement as enf
from ecoplan.cases.queries import unit_names
from ecoplan.cases.register_models import EnforcementCase
from ecoplan.config import today as current_day
from ecoplan.errors import ValidationError
from ecoplan.web.auth import MAX_ID, CurrentAccount, Db, Id, current_account
from ecoplan.web.pages import back
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
Year = Annotated[int | None, Query(ge=2000, le=2100)]
STAGE_COLORS = {"filed": "#e0a800", "inquiry": "#f08c00", "decided": "#1c7ed6", "closed": "#2e9e5b"}
YEARS_SHOWN = 5
LABELS: dict[str, Any] = {
    "DOMAINS": enf.DOMAINS, "MEASURE_OF_DOMAIN": enf.MEASURE_OF_DOMAIN, "STAGES": enf.STAGE_LABELS,
    "CASE_TYPES": enf.CASE_TYPES, "DISCOVERY": enf.DISCOVERY, "VENUE_TYPES": enf.VENUE_TYPES,
    "LEVELS": enf.LEVELS, "UNLISTED": enf.UNLISTED, "COLORS": STAGE_COLORS,
}  # fmt: skip


# --- which forms an account is offered (the domain decides whether the action is allowed) -------


def _unit_code(account: Account) -> str | None:
    return account.unit.code if account.role == "unit" and account.unit is not None else None


def filing_domains(account: Account) -> list[str]:
    """Domains whose cases the account's unit files (empty for read-only roles)."""
    code = _unit_code(account)
    return [d for d, codes in enf.CASE_UNITS.items() if code in codes]


def inspection_domains(account: Account) -> list[str]:
    code = _unit_code(account)
    return [d for d, codes in enf.INSPECTION_UNITS.items() if code in codes]


def may_advance(account: Account, case: EnforcementCase) -> bool:
    return account.role == "unit" and account.unit_id == case.unit_id and case.stage != "closed"


def next_stage(case: EnforcementCase) -> str | None:
    index = enf.STAGES.index(case.stage) if case.stage in enf.STAGES else len(enf.STAGES)
    return enf.STAGES[index + 1] if index + 1 < len(enf.STAGES) else None


# --- form fields ------------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if "\x00" in text:  # PostgreSQL cannot store it: bad input, not a 500 from the driver
        raise ValidationError("表单内容不能包含 NUL 控制字符")
    return text


def _date(form: FormData, name: str, label: str) -> dt.date:
    text = _text(form, name)
    if not text:
        raise ValidationError(f"{label}: 不能为空")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{label}: “{text}”不是日期(如 2024-03-05)") from None


def _number(form: FormData, name: str, label: str) -> float | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationError(f"{label}: “{text}”不是数字") from None


def _whole(form: FormData, name: str, label: str) -> int:
    text = _text(form, name)
    if not text.isdigit() or int(text) > MAX_ID:
        raise ValidationError(f"{label}: “{text}”须为不小于 0 的整数")
    return int(text)


def _row_id(form: FormData, name: str, label: str) -> int | None:
    text = _text(form, name)
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise ValidationError(f"{label}: “{text}”不是有效的编号")
    return int(text)


def _checked(form: FormData, name: str) -> bool:
    return _text(form, name) in ("1", "on", "true", "是")


# --- pages --------------------------------------------------------------------------------------------


@router.get("/enforcement", response_class=HTMLResponse)
def enforcement_page(
    request: Request, session: Db, account: CurrentAccount, year: Year = None, domain: str = "",
    stage: str = "", msg: str = "",
) -> Response:  # fmt: skip
    today = current_day()
    year = year or today.year
    rows = cases_for(session, account, year=year, domain=domain or None, stage=stage or None)
    stats = enf.case_stats(session, year)
    own_open = [c for c in enf.list_cases(session, account) if may_advance(account, c)]
    years = sorted({*range(today.year - YEARS_SHOWN + 1, today.year + 1), year}, reverse=True)
    return render(request, "enforcement.html", {
        **LABELS, "year": year, "years": years, "today": today, "stats": stats, "rows": rows,
        "flt": {"domain": domain, "stage": stage}, "units": unit_names(session),
        "filing": filing_domains(account), "inspecting": inspection_domains(account),
        "own_open": [(c, next_stage(c)) for c in own_open],
        "may_export": may_export_ledger(account), "msg": msg,
    })  # fmt: skip


@router.get("/enforcement/ledger.xlsx")
def ledger(session: Db, account: CurrentAccount, year: Year = None) -> Response:
    return ledger_response(session, account, year or current_day().year)


@router.get("/enforcement/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request, case_id: Id, session: Db, account: CurrentAccount, msg: str = ""
) -> Response:
    case = enf.get_case(session, account, case_id)
    return render(request, "enforcement_case.html", {
        **LABELS, "c": case, "units": unit_names(session), "today": current_day(),
        "entered": enf.stage_entered_on(session, case), "next": next_stage(case),
        "may_advance": may_advance(account, case), "msg": msg,
    })  # fmt: skip


@router.post("/enforcement/cases")
async def open_case_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    case = enf.open_case(
        session, account, case_no=_text(form, "case_no"), domain=_text(form, "domain"),
        case_type=_text(form, "case_type"), title=_text(form, "title"),
        filed_on=_date(form, "filed_on", "立案日期"), lon=_number(form, "lon", "经度"),
        lat=_number(form, "lat", "纬度"), discovered_by=_text(form, "discovered_by"),
        species=enf.parse_species_cell(_text(form, "species")),
        clue_id=_row_id(form, "clue_id", "关联线索"),
    )  # fmt: skip
    where = f",位于{case.district_name}" if case.district_name else ""
    unlisted = enf.unlisted_names(case.species or [])
    note = f"。未列入保护名录的物种: {'、'.join(unlisted)}(请核对)" if unlisted else ""
    return back(f"/enforcement/cases/{case.id}", f"已立案 {case.case_no}{where}{note}")


@router.post("/enforcement/advance")
async def advance_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    case_id = _row_id(form, "case_id", "案件")
    if case_id is None:
        raise ValidationError("请选择要推进的案件")
    case = enf.advance_case(
        session, account, case_id, to_stage=_text(form, "to_stage"),
        on=_date(form, "on", "日期"), decision=_text(form, "decision"),
        penalty_yuan=_number(form, "penalty_yuan", "处罚金额"),
        transferred=_checked(form, "transferred"),
    )  # fmt: skip
    done = f"案件 {case.case_no} 已推进到“{enf.STAGE_LABELS[case.stage]}”"
    if case.stage == "decided":
        done += f",处罚金额 {case.penalty_yuan:,.2f} 元" + (
            ",已移送公安" if case.transferred else ""
        )
    to_list = _text(form, "back") == "list"  # the form on /enforcement returns there
    return back(f"/enforcement?year={case.filed_on.year}" if to_list else f"/enforcement/cases/{case.id}",
                done)  # fmt: skip


@router.post("/enforcement/inspections")
async def inspection_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    item = enf.record_inspection(
        session, account, domain=_text(form, "domain"), venue=_text(form, "venue"),
        venue_type=_text(form, "venue_type"), inspected_on=_date(form, "inspected_on", "检查日期"),
        items_checked=_whole(form, "items_checked", "检查项数"),
        violations=_whole(form, "violations", "发现问题数"),
        case_id=_row_id(form, "case_id", "关联案件"), note=_text(form, "note"),
    )  # fmt: skip
    return back(f"/enforcement?year={item.inspected_on.year}",
                f"已登记监督检查: {item.venue},检查 {item.items_checked} 项,发现问题 {item.violations} 个")  # fmt: skip


@router.post("/enforcement/import")
async def import_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    upload = required_upload(form, "请选择执法案件台账文件(.xlsx)")
    try:
        cases = await import_upload(session, account, upload)
    finally:
        await form.close()
    summary = import_summary(cases)
    years = sorted({c.filed_on.year for c in cases})
    note = (f"。未列入保护名录的物种: {'、'.join(summary.unlisted_species)}(请核对)"
            if summary.unlisted_species else "")  # fmt: skip
    return back(f"/enforcement?year={years[-1]}" if years else "/enforcement",
                f"已导入 {summary.count} 件执法案件{note}")  # fmt: skip
