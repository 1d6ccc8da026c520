"""The EI bulletin (task 11.1 "对社会公布评价结果") as a Word document."""

from __future__ import annotations

from docx.shared import Pt

from ecoplan.accounting.ei.models import EIResultRow, EIRun
from ecoplan.reports.documents import add_table, add_title, new_document, to_bytes


def city_row(run: EIRun) -> EIResultRow | None:
    return next((r for r in run.results if r.level == "city" and not r.approximation), None)


def headline(run: EIRun) -> str:
    """One sentence on the city: EI, grade, change since last year, verdict."""
    city = city_row(run)
    if city is None:
        return f"{run.year}年共评价 {len(run.results)} 个区域。"
    text = f"{run.year}年全市生态环境质量指数(EI)为 {city.ei:.1f}，等级为“{city.grade}”"
    if city.delta is not None:
        text += f"，与上年相比变化 {city.delta:+.1f}，{city.change_grade}，{city.verdict}"
    return text + "。"


def ei_bulletin_docx(run: EIRun) -> bytes:
    doc = new_document()
    add_title(doc, f"{run.year}年生态环境质量评价结果")
    if run.is_demo:
        note = doc.add_paragraph().add_run(
            "【演示数据：本文件由合成数据计算，不代表真实生态环境状况】"
        )
        note.bold = True
    doc.add_paragraph(headline(run))
    districts = [r for r in run.results if r.level in ("district", "zone")]
    if districts:
        better = sum(1 for r in districts if r.delta is not None and r.delta >= 1)
        worse = sum(1 for r in districts if r.delta is not None and r.delta <= -1)
        doc.add_paragraph(
            f"参评的 {len(districts)} 个区(含功能区)中，"
            f"等级为优的 {sum(1 for r in districts if r.grade == '优')} 个、良的 {sum(1 for r in districts if r.grade == '良')} 个；"
            f"与上年相比变好的 {better} 个，变差的 {worse} 个。"
        )
    rows = [
        [
            r.region_name,
            f"{r.ei:.1f}",
            r.grade,
            "" if r.delta is None else f"{r.delta:+.1f}",
            r.change_grade or "",
            r.verdict or "",
        ]
        for r in run.results
    ]
    add_table(doc, ["区域", "EI", "等级", "ΔEI", "变化程度", "稳中向好"], rows)
    method = doc.add_paragraph()
    method.add_run(
        f"评价方法：{run.method_standard}《{run.method_name}》(方法版本 {run.method_key})。"
        "全市结果按全市汇总数据直接计算；“各区面积加权平均”行为近似值，仅供对照。"
    ).font.size = Pt(10)
    if run.unverified:
        caveat = doc.add_paragraph().add_run(
            "以下参数尚未与标准原文核对：" + "；".join(run.unverified) + "。"
        )
        caveat.font.size = Pt(10)
    return to_bytes(doc)
