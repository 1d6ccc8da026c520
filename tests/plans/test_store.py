"""Plan store: revisions, stable IDs, diff, hand edits, designation, xlsx round trip, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from ecoplan import audit, db
from ecoplan.demo import sample_plan_path
from ecoplan.errors import ValidationError
from ecoplan.plans.designate import designate
from ecoplan.plans.document import PlanDocument
from ecoplan.plans.exchange import apply_edited_xlsx, export_plan
from ecoplan.plans.models import MeasureUnit
from ecoplan.plans.parsers import PARSER_VERSION, parse_bytes, parse_file
from ecoplan.plans.store import (
    ImportResult,
    active_measures,
    diff_revisions,
    import_document,
    measure_by_uid,
    plan_by_ref,
    review_queue,
    revise,
)
from ecoplan.units import service


def _import(engine: Engine, doc: PlanDocument) -> ImportResult:
    with db.session_scope(engine) as session:
        service.sync_builtin(session, actor="test")
        return import_document(
            session,
            doc,
            actor="test",
            directory=service.directory(session),
            parser_version=PARSER_VERSION,
        )


def _audit_count(engine: Engine) -> int:
    with db.session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(audit.AuditEntry)) or 0)


@pytest.fixture
def seed() -> PlanDocument:
    return parse_file(sample_plan_path())


def test_import_is_idempotent_and_expands_groups(engine: Engine, seed: PlanDocument) -> None:
    assert _import(engine, seed).status == "created"
    written = _audit_count(engine)
    # 37 built-in units + plan + revision + 32 measures = 71 audit entries.
    assert written == 37 + 1 + 1 + 32
    assert _import(engine, seed).status == "unchanged"
    assert _audit_count(engine) == written  # nothing written the second time
    with db.session_scope(engine) as session:
        plan = plan_by_ref(session)
        rows = active_measures(session, plan)
        assert [r.uid for r in rows][:3] == ["M001", "M002", "M003"] and len(rows) == 32
        m084 = next(r for r in rows if r.doc_id == "8.4")
        # 各区政府(含北京经济技术开发区管委会) → 16 districts + 经开区 = 17 assignment rows.
        responsible = [a for a in m084.assignments if a.role == "responsible"]
        assert len(responsible) == 17 and all(a.unit_id for a in responsible)
        m085 = next(r for r in rows if r.doc_id == "8.5")
        assert [a.placeholder for a in m085.assignments if a.role == "responsible"] == [True]
        queue = review_queue(session, plan, 0.8)
        assert "M021" in {i.uid for i in queue}  # 8.5: 相关区政府 waits for designation
        low = [r.uid for r in rows if r.confidence < 0.8]
        assert set(low) <= {i.uid for i in queue}


def test_corrected_file_keeps_ids_and_diff_shows_changes(
    engine: Engine, seed: PlanDocument
) -> None:
    _import(engine, seed)
    text = sample_plan_path().read_text("utf-8")
    corrected = text.replace("湿地保护率达到80%", "湿地保护率达到82%").replace(
        "推动密云水库国家生态质量综合监测站建设,提升", "新增一条措施内容完全不同的示例文字,用于测试"
    )
    result = _import(engine, parse_bytes(corrected.encode("utf-8"), "corrected.txt"))
    assert (
        result.status == "revised" and result.revision is not None and result.revision.number == 2
    )
    kinds = sorted((c.kind, c.doc_id) for c in result.changes)
    # 9.1's text changed beyond recognition: it is a new measure (M033) and the old M022 is removed.
    assert ("added", "9.1") in kinds and ("removed", "9.1") in kinds
    with db.session_scope(engine) as session:
        plan = plan_by_ref(session)
        changes = diff_revisions(plan, 1, 2)
        wet = next(c for c in changes if c.uid == "M021")
        assert (wet.kind, wet.field) == ("changed", "text") and "82%" in wet.after
        assert measure_by_uid(session, plan, "M022").removed
        assert measure_by_uid(session, plan, "M033").doc_id == "9.1"


def test_manual_edit_survives_reimport(engine: Engine, seed: PlanDocument) -> None:
    _import(engine, seed)
    with db.session_scope(engine) as session:
        plan = plan_by_ref(session)
        revise(session, plan, {"M004": {"lead": ["市农业农村局"], "responsible": ["市园林绿化局"]}},
               actor="test", kind="edit", directory=service.directory(session))  # fmt: skip
    text = sample_plan_path().read_text("utf-8").replace("湿地保护率达到80%", "湿地保护率达到81%")
    result = _import(engine, parse_bytes(text.encode("utf-8"), "v2.txt"))
    assert {("kept-manual", c.field) for c in result.changes if c.uid == "M004"} == {
        ("kept-manual", "lead"),
        ("kept-manual", "responsible"),
    }
    with db.session_scope(engine) as session:
        row = measure_by_uid(session, plan_by_ref(session), "M004")
        assert [a.written for a in row.assignments if a.role == "lead"] == ["市农业农村局"]
        assert row.reviewed and row.manual_fields == ["lead", "responsible"]


def test_designation_checks_scope(engine: Engine, seed: PlanDocument) -> None:
    _import(engine, seed)
    with db.session_scope(engine) as session:
        plan = plan_by_ref(session)
        directory = service.directory(session)
        with pytest.raises(ValidationError, match="不是区政府"):
            designate(
                session,
                plan,
                "M021",
                ["市水务局"],
                role="responsible",
                actor="t",
                directory=directory,
            )
        names = designate(session, plan, "M021", ["门头沟区", "延庆区政府"], role="responsible",
                          actor="t", directory=directory)  # fmt: skip
        assert names == ["门头沟区政府", "延庆区政府"]
    with db.session_scope(engine) as session:
        plan = plan_by_ref(session)
        assert "M021" not in {i.uid for i in review_queue(session, plan, 0.8)}
        placeholders = session.scalars(select(MeasureUnit).where(MeasureUnit.placeholder.is_(True)))
        assert all(p.measure.uid != "M021" for p in placeholders)


def test_xlsx_export_edit_import(engine: Engine, seed: PlanDocument, tmp_path: Path) -> None:
    _import(engine, seed)
    path = tmp_path / "plan.xlsx"
    with db.session_scope(engine) as session:
        assert export_plan(session, plan_by_ref(session), "xlsx", path) == 32
    workbook = load_workbook(path)
    assert workbook["_ecoplan"].sheet_state == "hidden"
    sheet = workbook["工作措施"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "M021":
            row[6].value = "门头沟区政府、房山区政府"  # designate 相关区政府
        if row[0].value == "M004":
            row[10].value = "是"  # confirm the parsed reading
    workbook.save(path)
    before = _audit_count(engine)
    with db.session_scope(engine) as session:
        _, reports = apply_edited_xlsx(
            session, path, actor="test", directory=service.directory(session)
        )
    updated = {r.uid: r.message for r in reports if r.status == "已更新"}
    assert updated == {"M004": "已核对", "M021": "主责单位"}
    assert len(reports) == 32
    assert _audit_count(engine) > before

    # A bad row (unknown unit, unknown ID) rejects the whole file and writes nothing.
    sheet = workbook["工作措施"]
    sheet["G3"] = "市宇宙局"
    sheet.append(["M999", "99.1"])
    workbook.save(path)
    before = _audit_count(engine)
    with pytest.raises(ValidationError) as info, db.session_scope(engine) as session:
        apply_edited_xlsx(session, path, actor="test", directory=service.directory(session))
    assert len(info.value.rows) == 2 and "市宇宙局" in info.value.rows[0]
    assert _audit_count(engine) == before
