"""Enforcement cases and trade inspections (measures 5.3 陆生 / 5.4 水生), on SQLite and
PostgreSQL: the protection list, the stage machine and the permissions as full matrices, field
validation, the all-or-nothing 台账 import, the figures for 5.3 / 5.4 and the ledger export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoplan import audit, db
from ecoplan.accounts.models import Account
from ecoplan.accounts.service import account_by_username, create_account
from ecoplan.cases import enforcement as enf
from ecoplan.cases.register_models import EnforcementCase, Inspection
from ecoplan.errors import InputFileError, PermissionDenied, ValidationError
from ecoplan.units.service import sync_builtin

# username -> (role, unit code)
ACCOUNTS = {
    "admin": ("admin", None),
    "coord": ("coordinator", None),
    "leader": ("leader", None),
    "ylljj": ("unit", "ylljj"),  # 市园林绿化局: 5.3 lead, may also own aquatic cases (5.4)
    "nyncj": ("unit", "nyncj"),  # 市农业农村局: 5.4 lead
    "scjgj": ("unit", "scjgj"),  # 市市场监管局: inspects trade, files no case here
    "gaj": ("unit", "gaj"),  # 市公安局: receives transfers, inspects with the others
    "chaoyang": ("unit", "110105"),  # 朝阳区政府: not named in 5.3 / 5.4
}
CHAOYANG = (116.39, 40.02)  # 奥林匹克森林公园, 朝阳区 (110105)
YANQING = (115.85, 40.45)  # 野鸭湖 area, 延庆区 (110119)
MIYUN = (116.98, 40.50)  # 密云水库, 密云区 (110118)
SHANGHAI = (121.47, 31.23)
D = dt.date


@pytest.fixture
def eng(engine: Engine) -> Engine:
    """Built-in units and one account per role / unit of interest."""
    with db.session_scope(engine) as session:
        sync_builtin(session, actor="test")
        for username, (role, unit) in ACCOUNTS.items():
            create_account(session, username=username, password="correct-horse-9", role=role,
                           unit_code=unit, actor="test")  # fmt: skip
    return engine


def acc(session: Session, username: str) -> Account:
    return account_by_username(session, username)


def new_case(
    session: Session, user: str = "ylljj", no: str = "LS-001", **fields: Any
) -> EnforcementCase:
    values: dict[str, Any] = {"domain": "terrestrial", "case_type": "破坏野生动物资源",
                              "title": "非法猎捕野生鸟类", "filed_on": D(2024, 3, 1),
                              "discovered_by": "patrol"}  # fmt: skip
    values.update(fields)
    return enf.open_case(session, acc(session, user), case_no=no, **values)


def to_stage(session: Session, case: EnforcementCase, stage: str, user: str = "ylljj") -> None:
    """Walk a case forward to ``stage`` with valid dates and decision."""
    steps = {"inquiry": {"on": D(2024, 3, 5)},
             "decided": {"on": D(2024, 4, 1), "decision": "罚款", "penalty_yuan": 1000},
             "closed": {"on": D(2024, 5, 1)}}  # fmt: skip
    for step in enf.STAGES[enf.STAGES.index(case.stage) + 1 : enf.STAGES.index(stage) + 1]:
        enf.advance_case(session, acc(session, user), case.id, to_stage=step, **steps[step])


def count_cases(engine: Engine) -> int:
    with db.session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(EnforcementCase)) or 0)


# --- protection list --------------------------------------------------------------------------


def test_builtin_list_keys_chinese_and_scientific_names() -> None:
    table = enf.load_species()
    assert table["褐马鸡"].level == "国家一级"
    assert table["crossoptilon mantchuricum"] is table["褐马鸡"]
    assert table["aix galericulata"].name_cn == "鸳鸯"
    assert {s.level for s in table.values()} <= set(enf.LEVELS)
    # every species is there twice: once by Chinese name, once by scientific name
    assert len(table) == 2 * len({s.name_cn for s in table.values()})


def test_user_list_skips_comments_and_names_bad_lines(tmp_path: Path) -> None:
    good = tmp_path / "list.csv"
    good.write_text("# 测试名录\n\nname_cn,scientific_name,group,level\n# 注释\n"
                    "北京雨燕,Apus apus pekinensis,鸟纲,北京市重点\n", encoding="utf-8")  # fmt: skip
    assert enf.load_species(good)["北京雨燕"].level == "北京市重点"
    bad = tmp_path / "bad.csv"
    bad.write_text("name_cn,scientific_name,group,level\n鸳鸯,Aix galericulata,鸟纲,二级\n"
                   "鸳鸯,Aix sp.,鸟纲,国家二级\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError) as info:
        enf.load_species(bad)
    assert "第 2 行 level" in str(info.value)
    assert "第 3 行: “鸳鸯”与第 2 行重复" in str(info.value)


def test_unknown_species_are_kept_and_reported() -> None:
    items = [{"name": "AIX  galericulata", "quantity": 2}, {"name": "某种鸣禽", "quantity": "4"},
             {"name": "大鲵", "quantity": None}]  # fmt: skip
    resolved = enf.resolve_species(items, enf.load_species())
    assert resolved == [
        {"name": "鸳鸯", "scientific_name": "Aix galericulata", "level": "国家二级",
         "quantity": 2, "listed": True},
        {"name": "某种鸣禽", "scientific_name": "", "level": "未列入名录", "quantity": 4,
         "listed": False},
        {"name": "大鲵", "scientific_name": "Andrias davidianus", "level": "国家二级",
         "quantity": None, "listed": True},
    ]  # fmt: skip
    assert enf.unlisted_names(resolved) == ["某种鸣禽"]
    with pytest.raises(ValidationError, match="数量“-1”须为正数"):
        enf.resolve_species([{"name": "鸳鸯", "quantity": -1}], enf.load_species())


def test_species_cell() -> None:
    assert enf.parse_species_cell("鸳鸯×2、豹猫 × 1只、大鲵") == [
        {"name": "鸳鸯", "quantity": "2"},
        {"name": "豹猫", "quantity": "1", "unit": "只"},
        {"name": "大鲵", "quantity": None},
    ]
    assert enf.parse_species_cell(None) == []


# --- the stage machine ------------------------------------------------------------------------


def test_stage_matrix(eng: Engine) -> None:
    """Every (from, to) pair: only the next stage is allowed, and nothing after 结案."""
    args = {"inquiry": {}, "decided": {"decision": "罚款", "penalty_yuan": 500},
            "closed": {}, "filed": {}}  # fmt: skip
    outcome: dict[tuple[str, str], str] = {}
    with db.session_scope(eng) as session:
        for i, start in enumerate(enf.STAGES):
            for j, target in enumerate(enf.STAGES):
                case = new_case(session, no=f"M-{i}{j}")
                to_stage(session, case, start)
                try:
                    enf.advance_case(session, acc(session, "ylljj"), case.id, to_stage=target,
                                     on=D(2024, 6, 1), **args[target])  # fmt: skip
                    outcome[start, target] = "ok"
                except ValidationError as exc:
                    outcome[start, target] = "refused"
                    assert case.stage == start, str(exc)  # a refused step changes nothing
    expected = {(s, t): "ok" if j == i + 1 else "refused"
                for i, s in enumerate(enf.STAGES) for j, t in enumerate(enf.STAGES)}  # fmt: skip
    assert outcome == expected


def test_stage_messages_and_labels(eng: Engine) -> None:
    with db.session_scope(eng) as session:
        case = new_case(session)
        ylljj = acc(session, "ylljj")
        with pytest.raises(ValidationError, match="当前阶段为立案,只能推进到调查,不能跳到处罚决定"):
            enf.advance_case(session, ylljj, case.id, to_stage="decided", on=D(2024, 6, 1),
                             decision="罚款")  # fmt: skip
        # Chinese stage labels are accepted as well as keys (and "investigating" for inquiry)
        enf.advance_case(session, ylljj, case.id, to_stage="调查", on=D(2024, 3, 2))
        other = new_case(session, no="LS-002")
        enf.advance_case(session, ylljj, other.id, to_stage="investigating", on=D(2024, 3, 2))
        assert other.stage == "inquiry"
        with pytest.raises(ValidationError, match="不能退回或停留在立案"):
            enf.advance_case(session, ylljj, case.id, to_stage="立案", on=D(2024, 6, 1))
        to_stage(session, case, "closed")
        with pytest.raises(ValidationError, match="已结案,不能再变更"):
            enf.advance_case(session, ylljj, case.id, to_stage="closed", on=D(2024, 6, 1))
        actions = [e.action for e in audit.entries(session, entity_type="enforcement_case",
                                                   entity_id=str(case.id))]  # fmt: skip
        # open + 调查 + 处罚决定 + 结案; refused steps leave no entry
        assert actions == ["enforcement_case.open"] + ["enforcement_case.advance"] * 3


def test_decision_penalty_and_dates(eng: Engine) -> None:
    with db.session_scope(eng) as session:
        ylljj = acc(session, "ylljj")
        case = new_case(session)  # filed 2024-03-01

        def advance(stage: str, on: dt.date, **kw: Any) -> EnforcementCase:
            return enf.advance_case(session, ylljj, case.id, to_stage=stage, on=on, **kw)

        with pytest.raises(ValidationError, match="早于立案日期 2024-03-01"):
            advance("inquiry", D(2024, 2, 28))
        with pytest.raises(ValidationError, match="晚于今天"):
            advance("inquiry", enf.today() + dt.timedelta(days=1))
        with pytest.raises(ValidationError, match="只能在“处罚决定”阶段填写"):
            advance("inquiry", D(2024, 3, 10), penalty_yuan=100)
        advance("inquiry", D(2024, 3, 10))
        # the 调查 date lives in the audit log (no column for it) and bounds the decision
        assert enf.stage_entered_on(session, case) == D(2024, 3, 10)
        with pytest.raises(ValidationError, match="早于调查日期 2024-03-10"):
            advance("decided", D(2024, 3, 9), decision="罚款")
        with pytest.raises(ValidationError, match="须填写处罚决定"):
            advance("decided", D(2024, 4, 1), decision="  ", penalty_yuan=100)
        for bad in (-1, float("nan"), float("inf")):
            with pytest.raises(ValidationError, match="处罚金额"):
                advance("decided", D(2024, 4, 1), decision="罚款", penalty_yuan=bad)
        advance("decided", D(2024, 4, 1), decision="不予行政处罚,移送公安机关", transferred=True)
        assert (case.stage, case.penalty_yuan, case.transferred) == ("decided", 0.0, True)
        with pytest.raises(ValidationError, match="早于处罚决定日期 2024-04-01"):
            advance("closed", D(2024, 3, 31))
        advance("closed", D(2024, 4, 1))  # the same day is fine
        assert (case.decided_on, case.closed_on) == (D(2024, 4, 1), D(2024, 4, 1))


def test_penalty_is_rounded_to_the_fen(eng: Engine) -> None:
    with db.session_scope(eng) as session:
        case = new_case(session)
        to_stage(session, case, "inquiry")
        enf.advance_case(session, acc(session, "ylljj"), case.id, to_stage="decided",
                         on=D(2024, 4, 1), decision="罚款", penalty_yuan=1234.567)  # fmt: skip
        assert case.penalty_yuan == 1234.57  # round(1234.567, 2)


# --- permissions ------------------------------------------------------------------------------


def _attempt(engine: Engine, username: str, action: Callable[[Session, Account], Any]) -> str:
    """Run one action in its own transaction, always rolled back: o allowed, - denied,
    v refused for its input."""
    with Session(engine) as session:
        try:
            action(session, acc(session, username))
            return "o"
        except PermissionDenied:
            return "-"
        except ValidationError:
            return "v"
        finally:
            session.rollback()


def test_permission_matrix(eng: Engine, tmp_path: Path) -> None:
    with db.session_scope(eng) as session:
        land = new_case(session, no="LS-1").id
        water = new_case(session, user="nyncj", no="SS-1", domain="aquatic",
                         case_type="非法引进/释放/丢弃外来物种").id  # fmt: skip
    ledger = xlsx(tmp_path / "one.xlsx", [row("IM-1", **{"领域(陆生/水生)": "水生"})])

    def open_as(domain: str) -> Callable[[Session, Account], Any]:
        return lambda s, a: enf.open_case(s, a, case_no=f"N-{domain}", domain=domain,
                                          case_type="破坏野生动物栖息地", title="毁坏湿地",
                                          filed_on=D(2024, 3, 1), discovered_by="report")  # fmt: skip

    def inspect_as(domain: str) -> Callable[[Session, Account], Any]:
        return lambda s, a: enf.record_inspection(s, a, domain=domain, venue="某花鸟市场",
                                                  venue_type="market", inspected_on=D(2024, 3, 1),
                                                  items_checked=5, violations=1)  # fmt: skip

    actions: dict[str, Callable[[Session, Account], Any]] = {
        "open 陆生": open_as("terrestrial"),
        "open 水生": open_as("aquatic"),
        "advance 园林 case": lambda s, a: enf.advance_case(s, a, land, to_stage="inquiry",
                                                           on=D(2024, 3, 2)),
        "advance 农业 case": lambda s, a: enf.advance_case(s, a, water, to_stage="inquiry",
                                                           on=D(2024, 3, 2)),
        "inspect 陆生": inspect_as("terrestrial"),
        "inspect 水生": inspect_as("aquatic"),
        "import": lambda s, a: enf.import_cases_xlsx(s, a, ledger),
        "read 园林 case": lambda s, a: enf.get_case(s, a, land),
    }  # fmt: skip
    # columns in the order of `actions`; o = allowed, - = PermissionDenied (v would be a
    # ValidationError: the permission passed but the input did not, which no cell expects)
    expected = {
        "admin":    "-------o",
        "coord":    "-------o",
        "leader":   "-------o",
        "ylljj":    "ooo-oooo",  # 园林 may own aquatic cases too (CASE_UNITS)
        "nyncj":    "-o-o-oo-",
        "scjgj":    "----oo--",  # inspects trade, files no case
        "gaj":      "----oo--",
        "chaoyang": "--------",
    }  # fmt: skip
    got = {user: "".join(_attempt(eng, user, act) for act in actions.values()) for user in ACCOUNTS}
    assert got == expected
    assert count_cases(eng) == 2  # every attempt was rolled back


def test_refusals_say_why_in_chinese(eng: Engine) -> None:
    with db.session_scope(eng) as session:
        case = new_case(session)
        cases = {
            "leader": "领导账号只能查看执法案件,不能办理该案件",
            "coord": "督办协调员可查看全部执法案件,但不能办理该案件",
            "nyncj": "案件 LS-001 由市园林绿化局承办,市农业农村局不能办理该案件",
        }
        for user, message in cases.items():
            with pytest.raises(PermissionDenied, match=message):
                enf.advance_case(session, acc(session, user), case.id, to_stage="inquiry",
                                 on=D(2024, 3, 2))  # fmt: skip
        with pytest.raises(PermissionDenied, match="朝阳区政府不是陆生野生动植物执法的承办单位"):
            new_case(session, user="chaoyang", no="X-1")
        # readers: everyone but other units; list_cases filters the same way
        assert [c.case_no for c in enf.list_cases(session, acc(session, "leader"))] == ["LS-001"]
        assert enf.list_cases(session, acc(session, "nyncj")) == []
        assert enf.list_cases(session, acc(session, "ylljj"), year=2024, domain="陆生") == [case]
        assert enf.list_cases(session, acc(session, "coord"), year=2023) == []
        assert enf.list_cases(session, acc(session, "admin"), domain="aquatic") == []
        with pytest.raises(PermissionDenied, match="只能查看本单位承办的执法案件"):
            enf.get_case(session, acc(session, "nyncj"), case.id)


# --- filing and inspections -------------------------------------------------------------------


def test_open_case_places_the_point_and_keeps_unknown_species(eng: Engine) -> None:
    with db.session_scope(eng) as session:
        case = new_case(session, lon=CHAOYANG[0], lat=CHAOYANG[1],
                        species=[{"name": "鸳鸯", "quantity": 2}, {"name": "某种鸣禽", "quantity": 3}])  # fmt: skip
        assert (case.district_code, case.district_name, case.stage) == ("110105", "朝阳区", "filed")
        assert [(s["name"], s["level"]) for s in case.species] == [("鸳鸯", "国家二级"),
                                                                   ("某种鸣禽", "未列入名录")]  # fmt: skip
        entry = audit.entries(session, entity_type="enforcement_case", entity_id=str(case.id))[0]
        assert entry.context == {"unlisted_species": ["某种鸣禽"]}
        assert entry.actor == "user:ylljj"


def test_open_case_refuses_bad_fields_at_once(eng: Engine) -> None:
    with db.session_scope(eng) as session:
        new_case(session, no="DUP-1")
        with pytest.raises(ValidationError) as info:
            new_case(session, no="DUP-1", case_type="乱扔垃圾", discovered_by="卫星",
                     lon=SHANGHAI[0], lat=SHANGHAI[1], clue_id=999999)  # fmt: skip
        text = str(info.value)
        for part in ("案件编号: DUP-1 已登记", "案件类型: “乱扔垃圾”", "发现方式: “卫星”",
                     "不在北京市范围内", "关联线索: id=999999 不存在"):  # fmt: skip
            assert part in text
        assert len(info.value.rows) == 5
        with pytest.raises(ValidationError, match="经纬度是否填反"):
            new_case(session, no="SW-1", lon=CHAOYANG[1], lat=CHAOYANG[0])
        with pytest.raises(ValidationError, match="须同时填写"):
            new_case(session, no="LON-1", lon=CHAOYANG[0])
        with pytest.raises(ValidationError, match="领域"):
            new_case(session, no="DOM-1", domain="海洋")


def test_record_inspection_validation(eng: Engine) -> None:
    with db.session_scope(eng) as session:
        land = new_case(session)
        scjgj = acc(session, "scjgj")

        def inspect(**kw: Any) -> Inspection:
            args: dict[str, Any] = {"domain": "陆生", "venue": "某网络平台店铺", "venue_type": "网络平台",
                                    "inspected_on": D(2024, 5, 6), "items_checked": 12, "violations": 2}  # fmt: skip
            return enf.record_inspection(session, scjgj, **(args | kw))

        for bad, message in (({"violations": 13}, "发现问题数: 13 多于检查项数 12"),
                             ({"items_checked": -1}, "检查项数"), ({"violations": 1.5}, "发现问题数"),
                             ({"violations": True}, "发现问题数"), ({"venue_type": "庙会"}, "场所类型"),
                             ({"venue": " "}, "检查场所: 不能为空"),
                             ({"domain": "水生", "case_id": land.id}, "不是水生案件")):  # fmt: skip
            with pytest.raises(ValidationError, match=message):
                inspect(**bad)
        item = inspect(case_id=land.id, note="下架 2 条")
        assert (item.domain, item.venue_type, item.unit_id) == (
            "terrestrial",
            "online",
            scjgj.unit_id,
        )
        assert audit.entries(session, entity_type="inspection")[-1].after["violations"] == 2


# --- the 台账 import ---------------------------------------------------------------------------

HEADERS = ["案件编号", "领域(陆生/水生)", "案件类型", "案由", "立案日期", "经度", "纬度",
           "发现方式", "物种(名称×数量)", "阶段", "处罚金额(元)", "处罚决定", "决定日期"]  # fmt: skip


def row(no: str, **over: Any) -> list[Any]:
    base = {"案件编号": no, "领域(陆生/水生)": "陆生", "案件类型": "非法收购/运输/出售野生动物及制品",
            "案由": "网络平台出售鸟类", "立案日期": dt.datetime(2024, 4, 2), "经度": CHAOYANG[0],
            "纬度": CHAOYANG[1], "发现方式": "市场检查", "物种(名称×数量)": "鸳鸯×2、画眉×5",
            "阶段": "立案", "处罚金额(元)": None, "处罚决定": None, "决定日期": None}  # fmt: skip
    base.update(over)
    return [base[h] for h in HEADERS]


def xlsx(path: Path, rows: list[list[Any]], headers: list[str] = HEADERS) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


def test_import_is_all_or_nothing(eng: Engine, tmp_path: Path) -> None:
    with db.session_scope(eng) as session:
        new_case(session, no="OLD-1")
    bad = xlsx(tmp_path / "bad.xlsx", [
        row("IM-1"),                                            # row 2: good
        row("IM-2", 立案日期="2024-13-40"),                      # row 3: not a date
        row("IM-1"),                                            # row 4: repeats row 2
        [None] * len(HEADERS),                                  # row 5: empty, skipped
        row("OLD-1"),                                           # row 6: already stored
        row("IM-3", 阶段="处罚决定"),                            # row 7: no decision / date
        row("IM-4", **{"处罚金额(元)": 500}),                    # row 8: penalty while 立案
        row("IM-5", **{"领域(陆生/水生)": "水生", "经度": SHANGHAI[0], "纬度": SHANGHAI[1]}),  # row 9
    ])  # fmt: skip
    with pytest.raises(ValidationError) as info, db.session_scope(eng) as session:
        enf.import_cases_xlsx(session, acc(session, "nyncj"), bad)
    assert count_cases(eng) == 1  # only OLD-1: nothing of the file was stored
    rows = info.value.rows
    assert "第 3 行 立案日期: “2024-13-40”不是日期(如 2024-03-05)" in rows
    assert "第 4 行 案件编号: IM-1 与第 2 行重复" in rows
    assert "第 6 行 案件编号: OLD-1 已登记" in rows
    assert "第 7 行 处罚决定: 不能为空" in rows and "第 7 行 决定日期: 不能为空" in rows
    assert "第 8 行 阶段: 阶段为立案时不能填写处罚金额" in rows
    # nyncj handles aquatic cases only: every terrestrial row is refused as well
    assert "第 2 行 领域: 市农业农村局不承办陆生案件" in rows
    assert any(r.startswith("第 9 行 经度/纬度: 位置(121.47, 31.23)不在北京市范围内") for r in rows)
    assert not any(r.startswith("第 5 行") for r in rows)
    assert "7 行有误(第 2、3、4、6、7、8、9 行),未导入任何案件" in str(info.value)


def test_import_stores_every_row(eng: Engine, tmp_path: Path) -> None:
    good = xlsx(tmp_path / "good.xlsx", [
        row("IM-1"),
        row("IM-2", 阶段="处罚决定", 处罚决定="罚款", 决定日期="2024/4/20",
            **{"处罚金额(元)": "3000", "经度": None, "纬度": None}),
        row("IM-3", **{"领域(陆生/水生)": "水生", "物种(名称×数量)": "大鲵×1尾",
                       "经度": MIYUN[0], "纬度": MIYUN[1]}),
    ])  # fmt: skip
    with db.session_scope(eng) as session:
        cases = enf.import_cases_xlsx(session, acc(session, "ylljj"), good)
        assert [(c.case_no, c.domain, c.stage, c.district_name, c.penalty_yuan) for c in cases] == [
            ("IM-1", "terrestrial", "filed", "朝阳区", 0.0),
            ("IM-2", "terrestrial", "decided", None, 3000.0),
            ("IM-3", "aquatic", "filed", "密云区", 0.0),
        ]
        assert cases[0].species[1] == {"name": "画眉", "scientific_name": "", "level": "未列入名录",
                                       "quantity": 5, "listed": False}  # fmt: skip
        assert cases[2].species[0]["unit"] == "尾"
        assert cases[1].decided_on == D(2024, 4, 20)
        entry = audit.entries(session, entity_type="enforcement_case", entity_id=str(cases[0].id))[
            0
        ]
        assert (entry.action, entry.context["row"], entry.context["file"]) == (
            "enforcement_case.import",
            2,
            "good.xlsx",
        )


def test_import_names_missing_columns(eng: Engine, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "cols.xlsx", [["X-1", "陆生"]], headers=["案件编号", "领域"])
    with pytest.raises(ValidationError, match="缺少列“案件类型”") as info, \
            db.session_scope(eng) as session:  # fmt: skip
        enf.import_cases_xlsx(session, acc(session, "ylljj"), path)
    assert len(info.value.rows) == 4  # 案件类型, 案由, 立案日期, 发现方式
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with (
        pytest.raises(InputFileError, match="无法读取为 xlsx 文件"),
        db.session_scope(eng) as session,
    ):
        enf.import_cases_xlsx(session, acc(session, "ylljj"), broken)


# --- figures for 5.3 / 5.4 and the ledger -----------------------------------------------------


def _stats_world(engine: Engine) -> None:
    """Four 2024 cases, one 2023 case closed in 2024, inspections in both years."""
    with db.session_scope(engine) as session:
        t1 = new_case(
            session,
            no="T1",
            lon=CHAOYANG[0],
            lat=CHAOYANG[1],
            species=[{"name": "鸳鸯", "quantity": 2}, {"name": "金雕", "quantity": 1}],
        )
        to_stage(session, t1, "closed")  # penalty 1000 (to_stage's decision)
        t2 = new_case(
            session,
            no="T2",
            case_type="非法收购/运输/出售野生动物及制品",
            species=[{"name": "豹猫", "quantity": 3}, {"name": "某种鸣禽", "quantity": 4}],
        )
        to_stage(session, t2, "inquiry")
        enf.advance_case(
            session,
            acc(session, "ylljj"),
            t2.id,
            to_stage="decided",
            on=D(2024, 6, 1),
            decision="罚款并移送公安",
            penalty_yuan=12000.5,
            transferred=True,
        )
        new_case(
            session,
            user="nyncj",
            no="A1",
            domain="aquatic",
            case_type="非法引进/释放/丢弃外来物种",
            lon=YANQING[0],
            lat=YANQING[1],
            species=[{"name": "大鲵", "quantity": 1}],
        )
        a2 = new_case(
            session,
            no="A2",
            domain="aquatic",
            case_type="侵占破坏种质资源",
            lon=MIYUN[0],
            lat=MIYUN[1],
        )  # 市园林绿化局 may own an aquatic case
        to_stage(session, a2, "inquiry")
        t3 = new_case(session, no="T3", filed_on=D(2023, 12, 20))
        ylljj = acc(session, "ylljj")
        enf.advance_case(session, ylljj, t3.id, to_stage="inquiry", on=D(2023, 12, 21))
        enf.advance_case(
            session,
            ylljj,
            t3.id,
            to_stage="decided",
            on=D(2024, 1, 10),
            decision="罚款",
            penalty_yuan=800,
        )
        enf.advance_case(session, ylljj, t3.id, to_stage="closed", on=D(2024, 1, 15))
        for user, domain, day, items, found in (
            ("ylljj", "terrestrial", D(2024, 3, 1), 10, 2),
            ("scjgj", "terrestrial", D(2024, 7, 1), 25, 3),
            ("nyncj", "aquatic", D(2024, 8, 1), 8, 0),
            ("ylljj", "terrestrial", D(2023, 11, 1), 5, 1),  # 2023: not counted
        ):
            enf.record_inspection(session, acc(session, user), domain=domain, venue="某市场",
                                  venue_type="market", inspected_on=day, items_checked=items,
                                  violations=found)  # fmt: skip


def test_case_stats_by_hand(eng: Engine) -> None:
    _stats_world(eng)
    with db.session_scope(eng) as session:
        stats = enf.case_stats(session, 2024)
    assert stats["cases"] == 4  # T1, T2, A1, A2 (T3 was filed in 2023)
    assert stats["by_domain"] == {"terrestrial": 2, "aquatic": 2}
    assert stats["by_stage"] == {"filed": 1, "inquiry": 1, "decided": 1, "closed": 1}
    assert stats["by_type"] == {"破坏野生动物资源": 1, "破坏野生动物栖息地": 0, "侵占破坏种质资源": 1,
                                "非法引进/释放/丢弃外来物种": 1, "非法收购/运输/出售野生动物及制品": 1}  # fmt: skip
    # district-code order: 110105 朝阳 (T1), 110118 密云 (A2), 110119 延庆 (A1), then T2 without a point
    assert list(stats["by_district"].items()) == [("朝阳区", 1), ("密云区", 1), ("延庆区", 1),
                                                  ("未定位", 1)]  # fmt: skip
    assert stats["transferred"] == 1  # T2
    assert stats["closed_in_year"] == 2  # T1 (2024-05-01) + T3 (filed 2023, closed 2024-01-15)
    # 1000 (T1) + 12000.5 (T2) = 13000.5, all terrestrial; T3's 800 belongs to 2023's cases
    assert stats["penalty_yuan"] == {"total": 13000.5, "terrestrial": 13000.5, "aquatic": 0.0}
    assert stats["species"] == {
        "国家一级": {"cases": 1, "individuals": 1},  # T1 金雕×1
        "国家二级": {"cases": 3, "individuals": 6},  # T1 鸳鸯×2 + T2 豹猫×3 + A1 大鲵×1
        "北京市重点": {"cases": 0, "individuals": 0},
        "三有": {"cases": 0, "individuals": 0},
        "未列入名录": {"cases": 1, "individuals": 4},  # T2 某种鸣禽×4
    }
    # terrestrial: 10 + 25 = 35 items, 2 + 3 = 5 violations (the 2023 inspection left out)
    assert stats["inspections"] == {"terrestrial": {"count": 2, "items": 35, "violations": 5},
                                    "aquatic": {"count": 1, "items": 8, "violations": 0}}  # fmt: skip
    assert stats["measures"]["5.3"] == {
        "domain": "terrestrial", "cases": 2, "closed": 1, "transferred": 1,
        "penalty_yuan": 13000.5, "national_protected_cases": 2,  # T1 and T2
        "inspections": 2, "items_checked": 35, "violations": 5,
    }  # fmt: skip
    assert stats["measures"]["5.4"] == {
        "domain": "aquatic", "cases": 2, "closed": 0, "transferred": 0, "penalty_yuan": 0.0,
        "national_protected_cases": 1,  # A1 大鲵
        "inspections": 1, "items_checked": 8, "violations": 0,
    }  # fmt: skip
    with db.session_scope(eng) as session:
        assert enf.case_stats(session, 2023)["cases"] == 1  # T3


def test_ledger_export_reads_back_and_reimports(eng: Engine, tmp_path: Path) -> None:
    _stats_world(eng)
    path = tmp_path / "ledger.xlsx"
    with db.session_scope(eng) as session:
        assert enf.export_ledger_xlsx(session, path, 2024) == path
    book = load_workbook(path)
    assert book.sheetnames == ["执法案件", "监督检查"]
    cases, checks = book["执法案件"], book["监督检查"]
    assert [c.value for c in cases[1]] == [*enf.CASE_HEADERS, *enf.DERIVED_HEADERS]
    assert cases.freeze_panes == "A2" and checks.freeze_panes == "A2"
    assert cases.column_dimensions["D"].width == 36  # 案由
    by_no = {r[0]: dict(zip(enf.CASE_HEADERS + enf.DERIVED_HEADERS, r, strict=True))
             for r in cases.iter_rows(min_row=2, values_only=True)}  # fmt: skip
    assert sorted(by_no) == ["A1", "A2", "T1", "T2"]  # T3 was filed in 2023
    t2 = by_no["T2"]
    assert (t2["阶段"], t2["处罚金额(元)"], t2["移送公安"], t2["承办单位"]) == (
        "处罚决定",
        12000.5,
        "是",
        "市园林绿化局",
    )
    assert t2["物种(名称×数量)"] == "豹猫×3、某种鸣禽×4"
    assert t2["保护级别"] == "国家二级、未列入名录"
    assert t2["决定日期"] == dt.datetime(2024, 6, 1)
    assert by_no["A1"]["所在区"] == "延庆区" and by_no["A1"]["领域(陆生/水生)"] == "水生"
    rows = list(checks.iter_rows(min_row=2, values_only=True))
    assert [(r[0].date(), r[2], r[5], r[6]) for r in rows] == [
        (D(2024, 3, 1), "市园林绿化局", 10, 2), (D(2024, 7, 1), "市市场监管局", 25, 3),
        (D(2024, 8, 1), "市农业农村局", 8, 0),
    ]  # fmt: skip
    # the exported sheet is a valid 台账: importing it again is refused only for duplicates
    with pytest.raises(ValidationError) as info, db.session_scope(eng) as session:
        enf.import_cases_xlsx(session, acc(session, "ylljj"), path)
    assert all("已登记" in r for r in info.value.rows)
    assert len(info.value.rows) == 4
