"""PDF, DOCX and XLSX versions of the seed plan parse back into the same 32 measures."""

from __future__ import annotations

import io
import re

import pytest

from ecoplan.demo import sample_plan_path
from ecoplan.plans.document import Measure, PlanDocument, validate_document
from ecoplan.plans.parsers import parse_bytes, parse_file
from tests.plans import builders


@pytest.fixture(scope="module")
def seed() -> PlanDocument:
    return parse_file(sample_plan_path())


def _key(m: Measure) -> tuple[object, ...]:
    return (m.id, m.text, m.deadline, m.lead, m.responsible, m.assisting, m.targets)


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx"])
def test_round_trip_gives_the_same_measures(seed: PlanDocument, fmt: str) -> None:
    data = getattr(builders, f"to_{fmt}")(seed)
    parsed = parse_bytes(data, f"seed.{fmt}")
    assert parsed.source.format == fmt
    assert parsed.counts() == seed.counts()
    assert [_key(m) for m in parsed.measures()] == [_key(m) for m in seed.measures()]
    assert [(s.number, s.title) for s in parsed.sections] == [
        (s.number, s.title) for s in seed.sections
    ]
    assert validate_document(parsed.to_json_dict()) == []
    # A grid keeps every name in its column: no measure needs review after a table import.
    assert min(m.confidence for m in parsed.measures()) == 1.0


def test_pdf_text_layer_extracts_back(seed: PlanDocument) -> None:
    """The PDF's text layer holds every measure's text, checked with a second engine.

    pdfium reads the text in content-stream order (reportlab writes cell after cell), so a
    wrapped cell comes back as its lines in order; removing line breaks gives the text.
    """
    import pypdfium2 as pdfium

    data = builders.to_pdf(seed)
    pdf = pdfium.PdfDocument(data)
    # 32 measure rows + 4 section rows = 36 rows at 5 a page → 8 pages.
    assert len(pdf) == 8
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    pdf.close()
    flat = re.sub(r"\s+", "", text)
    for m in seed.measures():
        assert m.text in flat, m.id
    assert "各区政府(含北京经济技术开发区管委会)" in flat


def test_pdf_without_ruling_falls_back_to_text_layer(seed: PlanDocument) -> None:
    """A PDF that is just the text (no grid) is read through the text-layer parser."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    lines = sample_plan_path().read_text("utf-8").splitlines()
    for start in range(0, len(lines), 60):
        pdf.setFont("STSong-Light", 9)
        for i, line in enumerate(lines[start : start + 60]):
            pdf.drawString(30, 800 - 13 * i, line)
        pdf.showPage()
    pdf.save()
    parsed = parse_bytes(buffer.getvalue(), "seed-text.pdf")
    assert parsed.counts() == seed.counts()
    assert [m.text for m in parsed.measures()] == [m.text for m in seed.measures()]
    assert any("按文本层读取" in w for w in parsed.warnings)
