"""The result table of a GEP-R run as rows for CSV / xlsx / JSON (one per region and service)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecoplan.accounting.gep.models import GepRun

COLUMNS = (
    ("year", "年份"), ("level", "层级"), ("region_code", "区域代码"), ("region_name", "区域"),
    ("service", "服务"), ("service_name", "服务名称"), ("quantity", "实物量"), ("unit", "单位"),
    ("price", "价格"), ("value_yuan", "价值(元)"), ("value_yi", "价值(亿元)"), ("variant", "方法"),
    ("parameters", "参数版本"), ("prices", "价格版本"), ("verified", "参数价格已核对"),
    ("inputs_sha256", "输入数据哈希"),
)  # fmt: skip


def table_rows(run: GepRun) -> list[dict[str, Any]]:
    hashes = ";".join(
        f"{k}={v['sha256'][:12]}" for k, v in sorted(run.provenance["inputs"].items())
    )
    out = []
    for r in run.results:
        price = "; ".join(
            f"{c['name']} {c['price']:.4g} {c['price_unit']}({c['price_note']})"
            for c in r.components
        )
        out.append({
            "year": run.year, "level": r.level, "region_code": r.region_code,
            "region_name": r.region_name, "service": r.service, "service_name": r.service_name,
            "quantity": r.quantity, "unit": r.unit, "price": price, "value_yuan": r.value_yuan,
            "value_yi": r.value_yuan / 1e8, "variant": r.variant, "parameters": run.parameters_key,
            "prices": run.prices_key, "verified": "是" if r.verified else "否(含未核对参数或价格)",
            "inputs_sha256": hashes,
        })  # fmt: skip
    return out


def write(run: GepRun, fmt: str, out: Path | None) -> str | None:
    """Write the table; returns the text for json/csv without ``out``."""
    rows = table_rows(run)
    if fmt == "json":
        text = json.dumps(
            {"run": run.id, "warnings": run.warnings, "rows": rows}, ensure_ascii=False, indent=1
        )
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([title for _, title in COLUMNS])
        writer.writerows([[row[k] for k, _ in COLUMNS] for row in rows])
        text = buffer.getvalue()
    elif fmt == "xlsx":
        if out is None:
            from ecoplan.errors import ValidationError

            raise ValidationError("xlsx 输出需要 --out 文件")
        _xlsx(run, rows, out)
        return None
    else:
        from ecoplan.errors import ValidationError

        raise ValidationError(f"未知格式 {fmt}(json | csv | xlsx)")
    if out is not None:
        out.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        return None
    return text


def _xlsx(run: GepRun, rows: Sequence[dict[str, Any]], out: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "GEP-R核算结果"
    sheet.append([title for _, title in COLUMNS])
    for row in rows:
        sheet.append([row[k] for k, _ in COLUMNS])
    notes = book.create_sheet("说明")
    notes.append(["核算", f"{run.id} {run.title}"])
    notes.append(["参数表", run.parameters_key])
    notes.append(["价格表", run.prices_key])
    for warning in run.warnings:
        notes.append(["提示", warning])
    used = run.provenance["parameters"]["used"]
    for key, row in sorted(used.items()):
        flag = "已核对" if row["verified"] else "未核对"
        notes.append(["参数", key, row["value"], row["unit"], row["source"], flag])
    for key, use in sorted(run.provenance["prices"]["used"].items()):
        flag = "已核对" if use["verified"] else "未核对"
        notes.append(
            [
                "价格",
                key,
                use["value"],
                use["unit"],
                f"{use['source']}({use['base_year']}年价)",
                flag,
            ]
        )
    book.save(out)
