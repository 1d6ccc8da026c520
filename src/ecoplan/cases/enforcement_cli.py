"""``ecoplan cases enforcement …``: the enforcement registers of measures 5.3 (陆生) and 5.4
(水生): import a 台账 for a unit, the year's figures, the 台账 export, the case list.

Registered by the maintainer (e.g. ``cases_app.add_typer(enforcement_app, name="enforcement")``).
Importing acts for a unit, so it names the account (``--as USERNAME``) whose unit handles the
cases; reading commands run as the machine's operator and see every case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecoplan.clikit import cli_engine, cli_reader, console, user_errors

enforcement_app = typer.Typer(
    help="野生动植物执法(措施 5.3 陆生 / 5.4 水生): 案件台账导入、年度统计、台账导出、案件列表",
    no_args_is_help=True,
)

YearOption = Annotated[
    int | None, typer.Option("--year", min=2000, max=2100, help="年度(默认今年,按立案日期)")
]


def _say(text: str) -> None:
    """One line as written: no markup, no wrapping (case numbers may hold brackets)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _year(year: int | None) -> int:
    from ecoplan.config import today

    return year or today().year


@enforcement_app.command("import")
@user_errors
def enforcement_import(
    file: Annotated[Path, typer.Argument(help="执法案件台账 .xlsx(工作表“执法案件”或第一张表)")],
    as_user: Annotated[
        str, typer.Option("--as", help="以该账号导入(须为承办单位账号,如 市园林绿化局的账号)")
    ],
) -> None:
    """导入执法案件台账: 逐行检查,全部通过才入库;任何一行有误则一件也不导入。"""
    from ecoplan.accounts.service import account_by_username
    from ecoplan.cases.enforcement import DOMAINS, import_cases_xlsx, unlisted_names
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        account = account_by_username(session, as_user)
        cases = import_cases_xlsx(session, account, file)
        _say(
            f"已导入 {len(cases)} 件执法案件(承办单位: {account.unit.name if account.unit else '—'})"
        )
        for case in cases:
            _say(f"  {case.case_no}\t{DOMAINS.get(case.domain, case.domain)}\t{case.case_type}\t"
                 f"{case.district_name or '未定位'}\t{case.title}")  # fmt: skip
        unlisted = list(dict.fromkeys(n for c in cases for n in unlisted_names(c.species or [])))
        if unlisted:
            _say(f"  未列入保护名录的物种(请核对): {'、'.join(unlisted)}")


@enforcement_app.command("stats")
@user_errors
def enforcement_stats(year: YearOption = None) -> None:
    """年度执法统计: 立案、结案、处罚金额、涉国家重点保护物种、交易监督检查,分 5.3 / 5.4。"""
    from ecoplan.cases.enforcement import DOMAINS, STAGE_LABELS, case_stats
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        s = case_stats(session, _year(year))
    _say(f"{s['year']} 年立案 {s['cases']} 件,年内结案 {s['closed_in_year']} 件,"
         f"移送公安 {s['transferred']} 件,处罚金额 {s['penalty_yuan']['total']:,.2f} 元")  # fmt: skip
    _say("  阶段: " + ",".join(f"{STAGE_LABELS[k]} {n}" for k, n in s["by_stage"].items()))
    for measure, m in s["measures"].items():
        _say(f"  {measure} {DOMAINS[m['domain']]}: 立案 {m['cases']} 件,结案 {m['closed']} 件,"
             f"处罚金额 {m['penalty_yuan']:,.2f} 元,涉国家重点保护物种 {m['national_protected_cases']} 件,"
             f"监督检查 {m['inspections']} 次(检查 {m['items_checked']} 项,发现问题 {m['violations']} 个)")  # fmt: skip
    for level, v in s["species"].items():
        if v["cases"]:
            _say(f"  {level}: {v['cases']} 件,数量 {v['individuals']:g}")
    for case_type, n in s["by_type"].items():
        if n:
            _say(f"  {case_type}: {n} 件")
    for district, n in s["by_district"].items():
        _say(f"  {district}: {n} 件")


@enforcement_app.command("ledger")
@user_errors
def enforcement_ledger(
    out: Annotated[Path, typer.Argument(help="输出 .xlsx")], year: YearOption = None
) -> None:
    """导出年度执法台账(xlsx: 执法案件、监督检查两张表;执法案件表可原样导入)。"""
    from ecoplan.cases.enforcement import export_ledger_xlsx
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        path = export_ledger_xlsx(session, out, _year(year))
    _say(f"已导出 {_year(year)} 年执法台账到 {path}")


@enforcement_app.command("list")
@user_errors
def enforcement_list(
    year: YearOption = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help="terrestrial 陆生 | aquatic 水生")
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="以该账号查看(单位账号只见本单位案件);默认全部")
    ] = None,
) -> None:
    """列出年度执法案件(按立案日期)。"""
    from ecoplan.accounts.service import account_by_username
    from ecoplan.cases.enforcement import DOMAINS, STAGE_LABELS, list_cases
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        account = account_by_username(session, as_user) if as_user else cli_reader()
        cases = list_cases(session, account, year=_year(year), domain=domain)
        _say(f"{_year(year)} 年执法案件 {len(cases)} 件")
        for c in cases:
            _say(f"  {c.case_no}\t{c.filed_on}\t{DOMAINS.get(c.domain, c.domain)}\t"
                 f"{STAGE_LABELS.get(c.stage, c.stage)}\t{c.case_type}\t{c.district_name or '未定位'}\t"
                 f"{c.penalty_yuan:,.2f} 元\t{c.title}")  # fmt: skip
