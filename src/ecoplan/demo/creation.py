"""Demo demonstration creation (task 13): 演示数据(合成,非实测).

延庆区 and 门头沟区 hold both titles (示范区 and “两山”基地), 密云区 holds 示范区 only, 平谷区 is
preparing a “两山”基地 application. The award years and batches are invented for the demo and
say so in their note: they are not a statement of when any district was really named. Checklist
values are partly filled (one binding indicator missed in 延庆区, several left 待填报), the titled
districts have annual tasks (one done, one late), and 延庆区's 2023 post-evaluation waits for
市生态环境局's review. Written through the domain functions (permissions, validation, audit),
on the demo clock; loading twice adds nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.config import today as clock
from ecoplan.creation import posteval, titles, values
from ecoplan.creation.access import districts
from ecoplan.creation.models import CreationTitle
from ecoplan.units.models import Unit

LABEL = "演示数据(合成,非实测)"
ACTOR = "demo:creation"
# (district code, programme, year awarded, batch): invented for the demo
TITLES = [("110119", "demo_zone", 2017, "演示批次一"), ("110119", "two_mountains", 2018, "演示批次二"),
          ("110109", "demo_zone", 2019, "演示批次三"), ("110109", "two_mountains", 2020, "演示批次四"),
          ("110118", "demo_zone", 2019, "演示批次三")]  # fmt: skip
# district -> indicator code -> value as a reporter types it
VALUES: dict[str, dict[str, str]] = {
    "110119": {"D01": "是", "D02": "是", "D03": "22", "D04": "是", "D05": "100", "D06": "100",
               "D14": "100", "D16": "是", "D17a": "是", "D17b": "是", "D20": "是", "D21": "是",
               "D27": "100", "D29": "92.5", "D30": "100", "D37": "75", "D39": "91.2",
               "L01": "是", "L02": "是", "L03": "是", "L04": "是", "L06": "是"},
    "110109": {"D01": "是", "D03": "21", "D04": "是", "D05": "100", "D17a": "是", "D27": "100",
               "D29": "88", "D39": "86.4", "L01": "是", "L04": "是"},
    "110118": {"D01": "是", "D04": "是", "D11": "68.5", "D27": "100"},
    "110117": {"L01": "否", "L02": "是", "L03": "是"},
}  # fmt: skip
# (district, programme, kind, name, target, due)
TASKS = [
    ("110119", "demo_zone", "目标任务", "修订生态文明建设规划年度实施计划", "区政府常务会审议通过",
     dt.date(2024, 3, 31), "已完成"),
    ("110119", "demo_zone", "工程项目", "妫水河沿岸生态修复(演示)", "完成修复 120 公顷",
     dt.date(2024, 10, 31), "推进中"),
    ("110119", "two_mountains", "目标任务", "生态产品价值实现机制试点(演示)", "形成试点方案",
     dt.date(2024, 6, 30), "推进中"),
    ("110109", "demo_zone", "工程项目", "永定河山峡段水土保持(演示)", "治理水土流失 15 平方公里",
     dt.date(2024, 11, 30), "推进中"),
    ("110109", "two_mountains", "目标任务", "“两山”转化典型案例总结(演示)", "汇编案例 5 个",
     dt.date(2024, 12, 20), "未开始"),
]  # fmt: skip


def _district_account(session: Session, code: str) -> Account:
    """A stand-in account of the district government (never stored, cannot log in)."""
    unit = session.scalar(
        select(Unit).where(Unit.kind == "district_gov", Unit.district_code == code)
    )
    if unit is None:
        raise LookupError(code)
    return Account(username=f"demo-{code}", display_name=unit.name, role="unit",
                   unit_id=unit.id, password_hash="")  # fmt: skip


def load_demo_creation(session: Session) -> int | None:
    """Load the demo records (see the module docstring); the number written, or None when they
    are already there or the unit directory lacks the districts."""
    if session.scalar(select(CreationTitle.id).where(CreationTitle.is_demo.is_(True)).limit(1)):
        return None
    known = districts(session)
    if not all(code in known for code in (*VALUES, *(t[0] for t in TITLES))):
        return None
    today = clock()
    year = today.year
    city = Account(username="demo-city", display_name="演示", role="coordinator", password_hash="")
    written = 0
    for code, program, awarded, batch in TITLES:
        titles.record_title(session, city, district=code, program=program,
                            year_awarded=min(awarded, today.year), batch=batch,
                            note=f"{LABEL}:命名年度和批次为演示虚构,不代表实际命名情况",
                            actor=ACTOR, today=today, is_demo=True)  # fmt: skip
        written += 1
    as_of = min(today, dt.date(year, 3, 31))
    for code, entries in VALUES.items():
        account = _district_account(session, code)
        for indicator, value in entries.items():
            values.record_value(session, account, district=code, code=indicator, value=value,
                                source=LABEL, year=year, as_of=as_of,
                                evidence_text=f"{LABEL}:佐证材料示例", actor=ACTOR, today=today,
                                is_demo=True)  # fmt: skip
            written += 1
    for code, program, kind, name, target, due, state in TASKS:
        account = _district_account(session, code)
        task = titles.add_task(session, account, district=code, program=program, year=year,
                               kind=kind, name=name, target=target,
                               due_on=due.replace(year=year), actor=ACTOR, today=today,
                               is_demo=True)  # fmt: skip
        if state != "未开始":
            titles.report_progress(session, account, task.id, state=state,
                                   note=f"{LABEL}:{'已按期完成' if state == '已完成' else '按计划推进'}",
                                   actor=ACTOR, today=today)  # fmt: skip
        written += 1
    yanqing = _district_account(session, "110119")
    review = posteval.create(session, yanqing, district="110119", year=year - 1, program="demo_zone",
                             problems=f"{LABEL}:部分乡镇生活垃圾分类质量不高;生态文明宣传覆盖不均衡",
                             measures=f"{LABEL}:开展垃圾分类专项督导;将宣传教育纳入乡镇年度考核",
                             cases=f"{LABEL}:某村以民宿带动生态旅游,村集体收入增长",
                             rectification="整改中", actor=ACTOR, is_demo=True)  # fmt: skip
    posteval.act(session, yanqing, review.id, "submit", actor=ACTOR)
    mentougou = _district_account(session, "110109")
    posteval.create(session, mentougou, district="110109", year=year - 1, program="two_mountains",
                    problems=f"{LABEL}:“两山”转化项目储备不足", measures=f"{LABEL}:建立项目库",
                    actor=ACTOR, is_demo=True)  # fmt: skip
    return written + 2
