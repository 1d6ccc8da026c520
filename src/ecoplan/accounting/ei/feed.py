"""EI evidence for the supervision of measures (tasks 1, 11.1 and 11.2); see
:mod:`ecoplan.accounting.feed` for how measures are linked."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecoplan.accounting.ei import runs
from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.reports.ei_bulletin import city_row, headline


def _verdict(session: Session) -> Evidence | None:
    run = runs.latest_run(session)
    if run is None:
        return None
    city = city_row(run)
    item = Evidence(
        "verdict",
        f"系统核算:{run.year} 年 EI({run.method_key})",
        [headline(run)],
        link=f"/ei?run={run.id}",
    )
    if city is not None and city.verdict_met is not None:
        item.met = city.verdict_met
    behind = [
        r.region_name for r in run.results if r.level == "district" and r.verdict_met is False
    ]
    if behind:
        item.lines.append("未实现稳中向好的区:" + "、".join(behind))
    if run.is_demo:
        item.lines.append("(演示数据)")
    return item


def _publication(session: Session) -> Evidence | None:
    run = runs.latest_run(session)
    if run is None:
        return None
    published = runs.latest_run(session, published_only=True)
    lines = [
        f"最新核算:{run.year} 年(第 {run.id} 次,{'已发布' if run.state == 'published' else '未发布'})"
    ]
    if published is not None and published.published_at is not None:
        lines.append(
            f"最近对社会公布:{published.year} 年结果,发布于 {published.published_at:%Y-%m-%d}"
        )
    return Evidence("publication", "系统记录:评价结果公布情况", lines,
                    met=run.state == "published", link=f"/ei?run={run.id}")  # fmt: skip


# the 11.2 change clues are counted by the clue register (ecoplan.cases.feed), like every clue kind
PROVIDERS: dict[str, Provider] = {"verdict": _verdict, "publication": _publication}
