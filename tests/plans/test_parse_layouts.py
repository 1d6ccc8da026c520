"""Plans laid out differently from the seed: other columns, numbering, no sections, glued text.

Each fixture is written by hand (text) or built here (DOCX, XLSX, CSV) so that the
parser is tested as a general reader, not tuned to one file.
"""

from __future__ import annotations

import datetime as dt
import io

from ecoplan.plans.document import PlanDocument, validate_document
from ecoplan.plans.parsers import parse_bytes


def _parse(data: bytes | str, name: str) -> PlanDocument:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    doc = parse_bytes(raw, name)
    assert validate_document(doc.to_json_dict()) == []
    return doc


def test_numbered_list_with_labelled_and_parenthesised_units() -> None:
    text = """关于推进2025年城市绿化的工作要点

一、扩大绿色空间
(一)推进公园建设
1.新增城市绿地300公顷,建设口袋公园30处。(市园林绿化局牵头,各区政府负责,年底前完成)
2、实施湿地保护修复,湿地保护率达到81%。
牵头单位:市园林绿化局;责任单位:相关区政府、市水务局;完成时限:2025年6月底前
(二)加强监测
1.开展鸟类同步调查。(市生态环境局牵头,2025年第三季度)
二、提升治理能力
(一)完善制度
1.修订管理办法。(市园林绿化局牵头,持续推进)
"""
    doc = _parse(text, "要点.txt")
    assert doc.year == 2025
    assert doc.counts() == {"sections": 2, "tasks": 3, "measures": 4, "targets": 3}
    first, second, third, fourth = doc.measures()
    assert first.id == "1.1.1"  # task numbers restart per section: the section prefixes the ID
    assert first.text == "新增城市绿地300公顷,建设口袋公园30处。"
    assert (first.lead, first.responsible) == (["市园林绿化局"], ["各区政府"])
    assert second.responsible == ["相关区政府", "市水务局"]
    assert second.deadline.due == dt.date(2025, 6, 30)
    assert third.deadline.due == dt.date(2025, 9, 30)  # 第三季度 ends 30 September
    assert fourth.deadline.kind == "ongoing"


def test_text_table_without_sections_and_other_columns() -> None:
    # 序号 / 工作任务 / 具体措施 / 完成时间 / 牵头单位 / 责任单位: no 协办 column, no section rows.
    text = """2025年湿地保护行动方案
序号 工作任务 具体措施 完成时间 牵头单位 责任单位
1 湿地修复 开展永定河湿地修复,修复面积120公顷。 2025年10月底前 市园林绿化局 门头沟区政府
2
湿地
监测
建设湿地监测站点5个,发布湿地
监测年报。
2025年底前 市生态环境局 市园林绿化局
"""
    doc = _parse(text, "方案.txt")
    assert doc.counts()["sections"] == 1 and doc.sections[0].title is None
    a, b = doc.measures()
    assert (a.id, a.lead, a.responsible) == ("1.1", ["市园林绿化局"], ["门头沟区政府"])
    assert a.deadline.due == dt.date(2025, 10, 31)
    assert b.text == "建设湿地监测站点5个,发布湿地监测年报。"
    assert doc.sections[0].tasks[1].title == "湿地监测"
    assert [(t.indicator, t.value) for t in b.targets] == [("湿地监测站点", 5.0)]  # 建设 is trimmed
    # One line, names separated by spaces: each sat in its own cell.
    assert b.confidence == 1.0 and b.responsible == ["市园林绿化局"]


def test_text_table_with_cells_glued_together() -> None:
    # A text layer without any separators between cells: "。年底前市水务局相关区政府".
    text = """生态保护2026年行动计划
序号 重点任务 工作措施 完成时限 牵头部门 主责单位
1
生态廊道
完善生态廊道网络,实施河流两侧廊道修复。年底前市水务局相关区政府
2
入侵物种
加强外来入侵物种监测。年底前市农业农村局各区政府
"""
    doc = _parse(text, "glued.txt")
    a, b = doc.measures()
    assert a.text == "完善生态廊道网络,实施河流两侧廊道修复。"
    assert a.deadline.due == dt.date(2026, 12, 31)
    # Glued names carry no column evidence: the reading is the likely one, but flagged
    # only when its probability is below 0.8.
    assert a.lead + a.responsible == ["市水务局", "相关区政府"]
    assert b.lead + b.responsible == ["市农业农村局", "各区政府"]


def test_tab_separated_text() -> None:
    rows = [
        ["序号", "重点任务", "工作措施", "完成时限", "牵头部门", "主责单位", "协办单位"],
        ["一、加强保护", "", "", "", "", "", ""],
        ["1", "种质资源", "收集林草种质资源700份。", "年底前", "市园林绿化局", "相关区政府", "———"],
    ]
    text = "生态保护2025年行动计划\n" + "\n".join("\t".join(r) for r in rows)
    doc = _parse(text, "plan.txt")
    (m,) = doc.measures()
    assert doc.sections[0].title == "加强保护"
    assert (m.lead, m.responsible, m.assisting) == (["市园林绿化局"], ["相关区政府"], [])
    assert m.targets[0].value == 700.0


def test_docx_with_paren_numbering_inline_roles_and_merged_task() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("附件2")
    document.add_paragraph("2025年生物多样性保护工作任务分工")
    table = document.add_table(rows=4, cols=5)
    header = ["编号", "重点工作", "工作内容", "责任单位", "完成时间"]
    body = [
        ["(一)", "本底调查", "完成鸟类、鱼类调查。", "市生态环境局牵头,各区政府配合", "2025年12月"],
        ["", "", "建立物种名录数据库。", "市生态环境局", "2025年下半年"],
        [
            "(二)",
            "执法检查",
            "依法查处破坏野生动物栖息地的违法行为。",
            "市园林绿化局、市公安局",
            "持续推进",
        ],
    ]
    for c, text in enumerate(header):
        table.cell(0, c).text = text
    for r, row in enumerate(body, start=1):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text
    for c in (0, 1):  # the first task spans its two measures
        top = table.cell(1, c)
        value = top.text
        top.merge(table.cell(2, c)).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    doc = _parse(buffer.getvalue(), "分工.docx")
    assert doc.title == "2025年生物多样性保护工作任务分工"
    assert doc.counts()["tasks"] == 2 and doc.counts()["measures"] == 3
    a, b, c = doc.measures()
    assert (a.id, b.id, c.id) == ("1.1", "1.2", "2.1")  # (一) → 1, (二) → 2
    assert (a.lead, a.responsible, a.assisting) == (["市生态环境局"], [], ["各区政府"])
    assert b.deadline.due == dt.date(2025, 12, 31)  # 下半年 ends 31 December
    assert c.responsible == ["市园林绿化局", "市公安局"] and c.deadline.kind == "ongoing"
    assert any("没有主责单位列" in w for w in doc.warnings) is False  # 责任单位 is the 主责 column


def test_xlsx_two_row_header_with_yearly_subcolumns() -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["北京市森林城市建设三年行动计划(2024—2026年)重点任务"])
    sheet.append(["序号", "任务", "措施", "计划节点", None, "责任单位", None])
    sheet.append([None, None, None, "2024年", "2025年", "牵头单位", "配合单位"])
    sheet.append(
        [1, "增绿", "新增造林绿化1万亩。", "完成5000亩", "完成1万亩", "市园林绿化局", "各区政府"]
    )
    sheet.append(
        [None, None, "建设城市森林10处。", "———", "建成10处", "市园林绿化局", "相关区政府"]
    )
    sheet.merge_cells("A4:A5")
    sheet.merge_cells("B4:B5")
    buffer = io.BytesIO()
    workbook.save(buffer)
    doc = _parse(buffer.getvalue(), "三年计划.xlsx")
    assert doc.year == 2024
    a, b = doc.measures()
    assert a.deadline.raw == "2024年:完成5000亩;2025年:完成1万亩"
    assert a.deadline.due == dt.date(2025, 12, 31)  # the last year with work in it
    assert (a.lead, a.assisting) == (["市园林绿化局"], ["各区政府"])
    assert b.id == "1.2" and b.deadline.raw == "2025年:建成10处"
    assert any("没有主责单位列" in w for w in doc.warnings)


def test_gbk_csv_with_section_column() -> None:
    text = (
        "编号,领域,重点任务,工作措施,完成时限,牵头单位,主责单位,配合单位\n"
        "1,生态空间,红线监管,开展生态保护红线人类活动问题线索核实处理。,年底前,市规划自然资源委,相关区政府,市生态环境局\n"
        "2,生态修复,湿地恢复,湿地保护率达到80%。,2024年11月底前,市园林绿化局,各区政府(含经开区),\n"
    )
    doc = _parse(text.encode("gbk"), "任务表.csv")
    assert doc.source.format == "csv"
    assert [s.title for s in doc.sections] == ["生态空间", "生态修复"]
    a, b = doc.measures()
    assert a.responsible == ["相关区政府"] and a.assisting == ["市生态环境局"]
    assert b.deadline.due == dt.date(2024, 11, 30)
    # No title, so no plan year: 年底前 cannot be dated and says so instead of guessing.
    assert a.deadline.kind == "unknown" and any("缺少年份" in w for w in a.warnings)
    assert b.responsible == ["各区政府(含经开区)"]
