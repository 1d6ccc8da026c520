"""What the enforcement registers tell the supervision of measures 5.3 (陆生) and 5.4 (水生):
the year's cases filed and closed, penalties, cases with national key protected species, trade
inspections and what they found (from :func:`ecoplan.cases.enforcement.case_stats`), with a
table of the year's cases by type.

The maintainer adds the kinds ``enforcement:terrestrial`` / ``enforcement:aquatic`` to
``accounting/data/measure_links.toml`` and this module's :func:`providers` to the registry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.cases.enforcement import CASE_TYPES, DOMAINS, MEASURE_OF_DOMAIN, case_stats
from ecoplan.cases.register_models import EnforcementCase
from ecoplan.config import today

TYPE_COLUMNS = [("case_type", "案件类型"), ("law", "法律依据"), ("cases", "立案"), ("closed", "结案"),
                ("penalty_yuan", "处罚金额(元)")]  # fmt: skip


def _by_type(session: Session, domain: str, year: int) -> list[dict[str, Any]]:
    """The domain's cases filed in ``year`` by type (the same cases case_stats counts); every
    type of the table, then any other type found in the register."""
    rows = session.execute(
        select(EnforcementCase.case_type, EnforcementCase.stage, EnforcementCase.penalty_yuan)
        .where(EnforcementCase.domain == domain,
               EnforcementCase.filed_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    ).all()  # fmt: skip
    table: dict[str, dict[str, Any]] = {t: {"case_type": t, "law": law, "cases": 0, "closed": 0, "penalty_yuan": 0.0}
             for t, law in CASE_TYPES.items()}  # fmt: skip
    for case_type, stage, yuan in rows:
        row = table.setdefault(case_type, {"case_type": case_type, "law": "", "cases": 0,
                                           "closed": 0, "penalty_yuan": 0.0})  # fmt: skip
        row["cases"] += 1
        row["closed"] += int(stage == "closed")
        row["penalty_yuan"] = round(row["penalty_yuan"] + (yuan or 0.0), 2)
    return list(table.values())


def enforcement_evidence(domain: str) -> Provider:
    measure, label = MEASURE_OF_DOMAIN[domain], DOMAINS[domain]

    def provider(session: Session) -> Evidence | None:
        year = today().year
        m = case_stats(session, year)["measures"][measure]
        if not m["cases"] and not m["inspections"]:
            return None  # nothing recorded this year: the units' reports speak alone
        lines = [
            f"{year} 年{label}野生动植物执法: 立案 {m['cases']} 件,结案 {m['closed']} 件,"
            f"移送公安 {m['transferred']} 件,处罚金额 {m['penalty_yuan']:,.2f} 元",
            f"涉及国家一级、二级保护野生动植物的案件 {m['national_protected_cases']} 件",
            f"{label}野生动物及制品交易监督检查 {m['inspections']} 次,检查 {m['items_checked']} 项,"
            f"发现问题 {m['violations']} 个",
        ]
        return Evidence(f"enforcement:{domain}", f"系统记录:{label}野生动植物执法案件与交易监督检查",
                        lines, met=None, link="/enforcement", table=_by_type(session, domain, year),
                        columns=TYPE_COLUMNS)  # fmt: skip

    return provider


def providers() -> dict[str, Provider]:
    return {f"enforcement:{domain}": enforcement_evidence(domain) for domain in DOMAINS}
