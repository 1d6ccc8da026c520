"""Bad input gets a one-line error naming the file and the problem; the text parser never raises."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecoplan.demo import sample_plan_path
from ecoplan.errors import InputFileError
from ecoplan.plans.parsers import parse_bytes
from ecoplan.plans.parsers.textfile import parse_text
from ecoplan.units.directory import UnitDirectory
from tests.plans import builders


def _encrypted_pdf() -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    pdf.drawString(100, 700, "confidential")
    pdf.save()
    return buffer.getvalue()


def _scanned_pdf() -> bytes:
    """A page with only graphics (what a scan looks like to a text extractor)."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for i in range(40):
        pdf.rect(50 + i * 5, 400, 3, 200, fill=1)
    pdf.save()
    return buffer.getvalue()


def _docx_without_tables() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("生态保护2024年行动计划")
    document.add_paragraph("正文没有表格。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx_without_header() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["姓名", "电话", "地址"])
    workbook.active.append(["张三", "123", "北京"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _seed_pdf() -> bytes:
    from ecoplan.plans.parsers import parse_file

    return builders.to_pdf(parse_file(sample_plan_path()))


CASES = {
    "empty.txt": (lambda: b"", "文件为空"),
    "blank.pdf": (lambda: b"   \n", "文件为空"),
    "garbage.bin": (lambda: bytes(range(256)) * 40, "二进制"),
    "secret.pdf": (_encrypted_pdf, "加密"),
    "scan.pdf": (_scanned_pdf, "扫描件"),
    "notable.docx": (_docx_without_tables, "没有表格"),
    "people.xlsx": (_xlsx_without_header, "表头"),
    "cut.pdf": (lambda: _seed_pdf()[:3000], "损坏"),
    "cut.docx": (lambda: builders.to_docx(_seed_doc())[:2000], "损坏"),
    "fake.xlsx": (lambda: "这不是表格".encode(), "不是XLSX格式"),
    "old.doc": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版Office"),
}


def _seed_doc():  # type: ignore[no-untyped-def]
    from ecoplan.plans.parsers import parse_file

    return parse_file(sample_plan_path())


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_gets_one_line_error(name: str) -> None:
    make, problem = CASES[name]
    with pytest.raises(InputFileError) as info:
        parse_bytes(make(), name)
    message = str(info.value)
    assert message.startswith(f"{name}: ") and "\n" not in message
    assert problem in message


def test_gbk_text_is_decoded() -> None:
    text = sample_plan_path().read_text("utf-8")
    doc = parse_bytes(text.encode("gb18030"), "seed-gbk.txt")
    assert doc.counts()["measures"] == 32


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list(
                "一、(1)2.\n 年底前市水务局各区政府—序号工作措施牵头部门主责单位协办单位持续推进。,———"
            )
        ),
        max_size=300,
    )
)
def test_text_parser_never_raises_on_plan_like_noise(text: str) -> None:
    parsed = parse_text(text, UnitDirectory.builtin())
    assert all(isinstance(m.text, str) for m in parsed.measures)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_text_parser_never_raises_on_any_text(text: str) -> None:
    parse_text(text, UnitDirectory.builtin())
