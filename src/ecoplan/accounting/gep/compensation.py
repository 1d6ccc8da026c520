"""Allocating a compensation budget among eligible districts from GEP-R (and EI) results (12.2).

Formula (all parts configurable):

- indicators per district: ``gep_level`` (GEP-R value of the run, 元), ``gep_change`` (the
  increase over the previous run, negative counts as 0: a decline earns nothing but takes
  nothing away from others), ``ei`` (EI of the same year's latest EI run), ``redline_area``
  (km², from a table) and any column of a user table;
- a district whose eligible part is only its mountain area (房山, 昌平) has its extensive
  indicators multiplied by that share (``partial_shares``);
- score_d = Σ_k w_k · x_kd / Σ_d x_kd (each indicator as a share of the eligible total);
- allocation = budget × score_d / Σ score, then each district is held between ``floor_yuan``
  and ``cap_yuan`` and the remainder is shared again among the others in proportion to their
  scores, until nothing moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecoplan.datafiles import parse_toml, validated
from ecoplan.errors import InputFileError, ValidationError

ECO_CONSERVATION_DISTRICTS: Final = {
    "110109": "门头沟区", "110117": "平谷区", "110116": "怀柔区", "110118": "密云区",
    "110119": "延庆区", "110111": "房山区(山区)", "110114": "昌平区(山区)",
}  # fmt: skip
INDICATORS: Final = {
    "gep_level": "GEP-R 总值", "gep_change": "GEP-R 增量", "ei": "生态环境质量指数 EI",
    "redline_area": "生态保护红线面积",
}  # fmt: skip
EXTENSIVE: Final = ("gep_level", "gep_change", "redline_area")


class CompensationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int
    title: str
    budget_yuan: float = Field(gt=0)
    run: int  # GEP-R run id
    previous_run: int | None = None
    districts: list[str] = list(ECO_CONSERVATION_DISTRICTS)
    partial_shares: dict[str, float] = {}
    weights: dict[str, float] = {
        "gep_level": 0.5,
        "gep_change": 0.2,
        "ei": 0.2,
        "redline_area": 0.1,
    }
    floor_yuan: float = Field(default=0.0, ge=0)
    cap_yuan: float | None = None
    table: Path | None = None  # region_code + redline_area (+ other indicator columns)

    @model_validator(mode="after")
    def _consistent(self) -> CompensationConfig:
        if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise ValueError("权重必须非负且合计大于 0")
        if self.cap_yuan is not None and self.cap_yuan < self.floor_yuan:
            raise ValueError("cap_yuan 不能小于 floor_yuan")
        if self.floor_yuan * len(self.districts) > self.budget_yuan:
            raise ValueError("保底额 × 区数 超过预算")
        if self.cap_yuan is not None and self.cap_yuan * len(self.districts) < self.budget_yuan:
            raise ValueError("封顶额 × 区数 小于预算，预算无法分完")
        bad = [k for k, v in self.partial_shares.items() if not 0 < v <= 1]
        if bad:
            raise ValueError(f"partial_shares 须在 (0, 1]: {', '.join(bad)}")
        return self


def load_config(path: Path) -> CompensationConfig:
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    config = validated(
        CompensationConfig, parse_toml(path.read_bytes(), path, "补偿配置"), path, "补偿配置"
    )
    if config.table is not None and not config.table.is_absolute():
        config.table = path.parent / config.table
    return config


def allocate(
    config: CompensationConfig,
    indicators: Mapping[str, Mapping[str, float]],
    names: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One explained row per district: indicator values, shares, weighted score, allocation."""
    districts = config.districts
    missing = {k: [names.get(d, d) for d in districts if d not in indicators.get(k, {})]
               for k, w in config.weights.items() if w > 0}  # fmt: skip
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        detail = "; ".join(f"{INDICATORS.get(k, k)}: {', '.join(v)}" for k, v in missing.items())
        raise ValidationError(f"补偿测算缺少指标数据 — {detail}")
    rows: list[dict[str, Any]] = []
    for d in districts:
        share = config.partial_shares.get(d, 1.0)
        values: dict[str, float] = {}
        for k in config.weights:
            x = float(indicators[k][d]) if d in indicators.get(k, {}) else 0.0
            if k == "gep_change":
                x = max(x, 0.0)
            values[k] = x * share if k in EXTENSIVE else x
        rows.append({"code": d, "name": names.get(d, d), "partial_share": share, "values": values})
    totals = {k: sum(r["values"][k] for r in rows) for k in config.weights}
    for r in rows:
        values = r["values"]
        shares = {k: (values[k] / totals[k] if totals[k] > 0 else 0.0) for k in config.weights}
        r["shares"] = shares
        r["score"] = sum(config.weights[k] * shares[k] for k in config.weights)
    _fill(rows, config.budget_yuan, config.floor_yuan, config.cap_yuan)
    return rows


def _fill(rows: list[dict[str, Any]], budget: float, floor: float, cap: float | None) -> None:
    """Proportional to score, held between floor and cap; what a held district gives up or
    receives is shared again among the others by score, until no district moves."""
    total = sum(r["score"] for r in rows)
    for r in rows:
        r["proportional_yuan"] = budget * (r["score"] / total if total > 0 else 1 / len(rows))
    held: dict[int, tuple[float, str]] = {}
    amounts: dict[int, float] = {}
    while True:  # each round holds at least one more district, so at most len(rows) rounds
        free = [i for i in range(len(rows)) if i not in held]
        left = budget - sum(a for a, _ in held.values())
        weight = sum(rows[i]["score"] for i in free)
        amounts = {
            i: left * (rows[i]["score"] / weight if weight > 0 else 1 / len(free)) for i in free
        }
        newly = {i: (floor, "保底") for i, a in amounts.items() if a < floor}
        if cap is not None:
            newly |= {i: (cap, "封顶") for i, a in amounts.items() if a > cap}
        if not newly:
            break
        held |= newly
    for i, r in enumerate(rows):
        r["allocation_yuan"], r["limited"] = held.get(i, (amounts.get(i, 0.0), ""))


def gather_indicators(
    session: Any, config: CompensationConfig
) -> tuple[dict[str, dict[str, float]], dict[str, str], int | None]:
    """Indicator values per district from the stored runs and the config's table."""
    from sqlalchemy import select

    from ecoplan.accounting.ei.models import EIRun
    from ecoplan.accounting.gep.runs import get_run, previous_run, totals

    run = get_run(session, config.run)
    if run.year != config.year:
        raise ValidationError(f"核算 {run.id} 是 {run.year} 年的，补偿年度为 {config.year}")
    district_totals = totals(run, "district")
    level = {code: v for (code, _), v in district_totals.items()}
    names = dict(district_totals.keys())  # (code, name) pairs
    found: dict[str, dict[str, float]] = {"gep_level": level}
    before = (
        get_run(session, config.previous_run) if config.previous_run else previous_run(session, run)
    )
    if before is not None:
        old = {code: v for (code, _), v in totals(before, "district").items()}
        found["gep_change"] = {c: v - old[c] for c, v in level.items() if c in old}
    ei_run = session.scalars(
        select(EIRun).where(EIRun.year == config.year).order_by(EIRun.state.desc(), EIRun.id.desc())
    ).first()
    if ei_run is not None:
        found["ei"] = {r.region_code: r.ei for r in ei_run.results if r.level == "district"}
    if config.table is not None:
        from ecoplan.accounting.gep.inputs import region_tables

        frame = region_tables([config.table])
        for column in frame.columns:
            found[str(column)] = {str(k): float(v) for k, v in frame[column].dropna().items()}
    return found, names, before.id if before is not None else None


def store(session: Any, config: CompensationConfig, *, actor: str, is_demo: bool = False) -> Any:
    from ecoplan import audit
    from ecoplan.accounting.gep.models import Compensation

    indicators, names, before_id = gather_indicators(session, config)
    rows = allocate(config, indicators, names)
    record = Compensation(
        year=config.year, title=config.title, run_id=config.run, previous_run_id=before_id,
        budget_yuan=config.budget_yuan, formula=config.model_dump(mode="json"), allocation=rows,
        is_demo=is_demo, created_by=actor,
    )  # fmt: skip
    session.add(record)
    session.flush()
    audit.record(
        session, actor=actor, action="gep.compensation.create", entity_type="gep_compensation",
        entity_id=record.id, after={"budget_yuan": config.budget_yuan, "run": config.run,
        "allocation": {r["code"]: round(r["allocation_yuan"], 2) for r in rows}},
    )  # fmt: skip
    return record


def report_docx(record: Any) -> bytes:
    """The explanation a finance bureau reads: formula, indicators, shares, amounts."""
    from ecoplan.reports.documents import add_table, add_title, new_document, to_bytes

    formula = record.formula
    doc = new_document()
    add_title(doc, record.title)
    doc.add_paragraph(
        f"补偿资金 {record.budget_yuan / 1e8:.4f} 亿元，依据 GEP-R 核算第 {record.run_id} 次"
        + (f"(上年对比核算第 {record.previous_run_id} 次)" if record.previous_run_id else "")
        + "。分配公式：得分 = Σ 权重 × 该区指标占全部受偿区合计的比例；按得分比例分配，"
        + f"保底 {formula['floor_yuan'] / 1e4:.0f} 万元"
        + (f"、封顶 {formula['cap_yuan'] / 1e4:.0f} 万元" if formula.get("cap_yuan") else "")
        + "，超出或不足部分在其余区之间按得分重新分配。GEP-R 增量为负时按 0 计。"
    )
    weights = formula["weights"]
    doc.add_paragraph(
        "权重：" + "；".join(f"{INDICATORS.get(k, k)} {w:g}" for k, w in weights.items())
    )
    header = [
        "区",
        "计入比例",
        *[INDICATORS.get(k, k) for k in weights],
        "得分",
        "按比例(万元)",
        "分配(万元)",
        "说明",
    ]
    body = []
    for r in record.allocation:
        cells = [r["name"], f"{r['partial_share']:.0%}"]
        for k in weights:
            v, s = r["values"][k], r["shares"][k]
            shown = f"{v / 1e8:.2f} 亿元" if k.startswith("gep") else f"{v:.2f}"
            cells.append(f"{shown}(占 {s:.1%})")
        cells += [
            f"{r['score']:.4f}",
            f"{r['proportional_yuan'] / 1e4:.1f}",
            f"{r['allocation_yuan'] / 1e4:.1f}",
            r["limited"],
        ]
        body.append(cells)
    add_table(doc, header, body)
    if record.is_demo:
        doc.add_paragraph("演示数据：本测算基于合成数据，不代表真实补偿安排。")
    return to_bytes(doc)
