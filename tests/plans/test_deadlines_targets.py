"""Deadline phrases and quantitative targets in the wording plans use."""

from __future__ import annotations

import datetime as dt

import pytest

from ecoplan.plans.deadlines import is_deadline_token, parse_deadline
from ecoplan.plans.targets import extract_targets


@pytest.mark.parametrize(
    ("raw", "kind", "due"),
    [
        ("年底前", "date", dt.date(2024, 12, 31)),
        ("持续推进", "ongoing", None),
        ("6月底前", "date", dt.date(2024, 6, 30)),
        ("十一月中旬", "date", dt.date(2024, 11, 20)),
        ("2025年第二季度", "date", dt.date(2025, 6, 30)),
        ("上半年", "date", dt.date(2024, 6, 30)),
        ("2024.9", "date", dt.date(2024, 9, 30)),
        ("3月、9月", "date", dt.date(2024, 9, 30)),  # several dates: the latest is the deadline
        ("2024年10月15日", "date", dt.date(2024, 10, 15)),
        ("择机开展", "unknown", None),
    ],
)
def test_parse_deadline(raw: str, kind: str, due: dt.date | None) -> None:
    deadline, warnings = parse_deadline(raw, 2024)
    assert (deadline.kind, deadline.due) == (kind, due)
    assert deadline.raw == raw
    assert bool(warnings) == (kind == "unknown")


def test_deadline_without_year_is_not_dated() -> None:
    deadline, warnings = parse_deadline("年底前", None)
    assert deadline.kind == "unknown" and "缺少年份" in warnings[0]


def test_deadline_tokens() -> None:
    assert is_deadline_token("年底前") and is_deadline_token("2024年6月底前")
    assert not is_deadline_token("市水务局") and not is_deadline_token("完善生态廊道")


def test_targets_with_comparators_and_lists() -> None:
    targets = extract_targets(
        "森林覆盖率达到44.95%,湿地保护率不低于80%,PM2.5浓度控制在30微克/立方米。", 2024
    )
    assert [(t.indicator, t.value, t.unit, t.comparator) for t in targets] == [
        ("森林覆盖率", 44.95, "%", ">="),
        ("湿地保护率", 80.0, "%", ">="),
        ("PM2.5浓度", 30.0, "微克/立方米", "<="),
    ]
    assert all(t.year == 2024 for t in targets)
    # Counts of existing things are not targets: "加强3个国家林木种质资源库…建设管理".
    assert extract_targets("加强3个国家林木种质资源库和2个国家重点林木良种基地建设管理") == []
