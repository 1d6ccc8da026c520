"""The parsed plan document: sections hold tasks, tasks hold measures.

These pydantic models are the in-memory form of ``plan.schema.json`` (shipped beside this
module, identical to the interface schema in ``shared/schemas``). Parsers produce a
:class:`PlanDocument`; the store keeps it as JSON in each plan revision.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, Field

SourceFormat = Literal["txt", "pdf", "docx", "xlsx", "csv"]
DeadlineKind = Literal["date", "ongoing", "unknown"]
ROLES: tuple[str, str, str] = ("lead", "responsible", "assisting")
ROLE_LABELS = {"lead": "牵头部门", "responsible": "主责单位", "assisting": "协办单位"}


class Source(BaseModel):
    file: str
    sha256: str
    format: SourceFormat


class Deadline(BaseModel):
    raw: str | None = None
    kind: DeadlineKind = "unknown"
    due: dt.date | None = None


class Target(BaseModel):
    """A quantitative target read from a measure, e.g. 森林覆盖率 ≥ 44.95 %."""

    indicator: str
    value: float
    unit: str
    text: str = ""
    comparator: Literal[">=", "<=", "="] = ">="
    year: int | None = None


class Measure(BaseModel):
    id: str
    text: str
    deadline: Deadline = Field(default_factory=Deadline)
    lead: list[str] = Field(default_factory=list)
    responsible: list[str] = Field(default_factory=list)
    assisting: list[str] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    confidence: float = 1.0
    warnings: list[str] = Field(default_factory=list)
    # Not in the interface schema (allowed as extra properties): where it came from.
    source_text: str = ""
    pages: list[int] = Field(default_factory=list)

    def units(self, role: str) -> list[str]:
        value: list[str] = getattr(self, role)
        return value


class Task(BaseModel):
    number: str | None = None
    title: str | None = None
    measures: list[Measure] = Field(default_factory=list)


class Section(BaseModel):
    number: str | None = None
    title: str | None = None
    tasks: list[Task] = Field(default_factory=list)


class PlanDocument(BaseModel):
    title: str
    year: int | None = None
    source: Source
    warnings: list[str] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    def measures(self) -> Iterator[Measure]:
        for section in self.sections:
            for task in section.tasks:
                yield from task.measures

    def walk(self) -> Iterator[tuple[Section, Task, Measure]]:
        for section in self.sections:
            for task in section.tasks:
                for measure in task.measures:
                    yield section, task, measure

    def counts(self) -> dict[str, int]:
        return {
            "sections": len(self.sections),
            "tasks": sum(len(s.tasks) for s in self.sections),
            "measures": sum(1 for _ in self.measures()),
            "targets": sum(len(m.targets) for m in self.measures()),
        }

    def to_json_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json")
        return data


@lru_cache(maxsize=1)
def plan_schema() -> dict[str, Any]:
    """The JSON schema every parsed plan must satisfy."""
    text = resources.files("ecoplan.plans").joinpath("data/plan.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_document(data: dict[str, Any]) -> list[str]:
    """Schema errors of a plan document as readable strings (empty when valid)."""
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(plan_schema(), format_checker=FormatChecker())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(根)'}: {error.message}"
        for error in validator.iter_errors(data)
    ]
