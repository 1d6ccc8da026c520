"""Turn the rows every parser produces into a :class:`PlanDocument`.

Each format-specific parser yields :class:`RawMeasure` records in document order (section
and task labels as written, measure text, raw deadline, unit names per role, confidence
and warnings). Assembly is shared so that every format gets the same numbering, deadline
parsing, target extraction and unit-name checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ecoplan.plans.deadlines import parse_deadline
from ecoplan.plans.document import ROLES, Measure, PlanDocument, Section, Source, Task
from ecoplan.plans.targets import extract_targets
from ecoplan.plans.textnorm import chinese_number, has_cjk, join_lines, nfkc
from ecoplan.units.directory import UnitDirectory, normalize_name

_YEAR_IN_TITLE = re.compile(r"(20\d\d)\s*(?:年|—|-|～|~)")


@dataclass
class RawMeasure:
    """One measure as a parser found it, before numbering and interpretation."""

    text: str
    section_number: str | None = None
    section_title: str | None = None
    task_number: str | None = None
    task_title: str | None = None
    deadline: str | None = None
    units: dict[str, list[str]] = field(default_factory=dict)
    extra_target_text: str = ""
    confidence: float = 1.0
    warnings: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    source_text: str = ""


@dataclass
class ParsedPlan:
    """What a parser found: title, year, measures in order, plan-level warnings."""

    title: str | None
    year: int | None
    measures: list[RawMeasure]
    warnings: list[str] = field(default_factory=list)


def bare_number(label: str | None) -> str | None:
    """The number inside a label such as "1", "1.", "1、", "(一)", "第三"; else None."""
    if not label:
        return None
    core = re.sub(r"[\s()()、.．,,::第]", "", nfkc(label))
    if core.isdigit():
        return str(int(core))
    value = chinese_number(core)
    return str(value) if value is not None else None


def first_title(candidates: Iterable[str]) -> str | None:
    """The plan title: the first candidate in Chinese of 4+ characters, not "附件N" or a header."""
    for candidate in candidates:
        text = join_lines(candidate)
        if len(text) >= 4 and has_cjk(text) and not text.startswith("附件") and "序号" not in text:
            return text
    return None


def year_from_title(title: str | None) -> int | None:
    if not title:
        return None
    match = _YEAR_IN_TITLE.search(nfkc(title))
    return int(match.group(1)) if match else None


def assemble(
    parsed: ParsedPlan, source: Source, directory: UnitDirectory, *, fallback_title: str
) -> PlanDocument:
    """Number the measures ("task.k"), parse deadlines and targets, check unit names."""
    year = parsed.year or year_from_title(parsed.title)
    doc = PlanDocument(
        title=parsed.title or fallback_title,
        year=year,
        source=source,
        warnings=list(parsed.warnings),
    )
    task_numbers = [bare_number(m.task_number) for m in parsed.measures]
    # When task numbers restart in every section, prefix the section to keep IDs unique.
    prefix_sections = _numbers_restart(parsed.measures, task_numbers)
    section_key: tuple[str | None, str | None] | None = None
    task_key: tuple[object, ...] | None = None
    section: Section | None = None
    task: Task | None = None
    task_counter = 0
    for raw, task_no in zip(parsed.measures, task_numbers, strict=True):
        skey = (raw.section_number, raw.section_title)
        if section is None or skey != section_key:
            section = Section(number=raw.section_number, title=raw.section_title)
            doc.sections.append(section)
            section_key = skey
            task_key = None
        tkey = (raw.task_number, raw.task_title)
        if task is None or task_key is None or tkey != task_key:
            task_counter += 1
            task = Task(number=task_no or raw.task_number, title=raw.task_title)
            section.tasks.append(task)
            task_key = tkey
        label = task_no or str(task_counter)
        if prefix_sections:
            label = f"{bare_number(raw.section_number) or len(doc.sections)}.{label}"
        task.measures.append(_measure(raw, f"{label}.{len(task.measures) + 1}", year, directory))
    return doc


def _numbers_restart(measures: list[RawMeasure], numbers: list[str | None]) -> bool:
    seen: dict[str, tuple[str | None, str | None]] = {}
    for raw, number in zip(measures, numbers, strict=True):
        if number is None:
            continue
        section = (raw.section_number, raw.section_title)
        if number in seen and seen[number] != section:
            return True
        seen.setdefault(number, section)
    return False


def _measure(
    raw: RawMeasure, measure_id: str, year: int | None, directory: UnitDirectory
) -> Measure:
    text = join_lines(raw.text)
    deadline, deadline_warnings = parse_deadline(raw.deadline, year)
    warnings = [*raw.warnings, *deadline_warnings]
    units: dict[str, list[str]] = {}
    for role in ROLES:
        names: list[str] = []
        for name in raw.units.get(role, []):
            clean = normalize_name(name)
            if clean and clean not in names:
                names.append(clean)
                if not directory.is_known(clean):
                    warnings.append(f"单位名录中没有“{clean}”,请核对或在单位名录中添加")
        units[role] = names
    if not any(units.values()):
        warnings.append("未识别到任何责任单位")
    targets = extract_targets(text, year)
    if raw.extra_target_text:
        known = {(t.indicator, t.value) for t in targets}
        targets += [
            t
            for t in extract_targets(join_lines(raw.extra_target_text), year)
            if (t.indicator, t.value) not in known
        ]
    return Measure(
        id=measure_id,
        text=text,
        deadline=deadline,
        lead=units["lead"],
        responsible=units["responsible"],
        assisting=units["assisting"],
        targets=targets,
        confidence=round(max(0.0, min(1.0, raw.confidence)), 3),
        warnings=list(dict.fromkeys(warnings)),
        source_text=raw.source_text,
        pages=sorted(set(raw.pages)),
    )
