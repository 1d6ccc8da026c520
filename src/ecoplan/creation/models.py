"""Tables of demonstration creation (task 13; migration 0010).

- ``CreationTitle``: a title a district holds (国家生态文明建设示范区 or “两山”基地), with the
  year it was awarded and the batch; one per district and programme;
- ``ChecklistValue``: a district's reported value of one checklist indicator for one year
  (number or yes/no), with evidence text, an optional evidence file (content-addressed in the
  evidence store), source and date. One row per district, indicator and year: a new report
  replaces it, and the audit log keeps the before and after. Computed values (EI, the
  indicator registry, GEP-R) are not stored here: they are read at the time of judging;
- ``CreationTask``: an annual target task or engineering project of a titled district under
  its 生态文明建设规划 / “两山”基地建设实施方案 (13.2), with progress notes;
- ``PostEvaluation``: a post-evaluation record of a district and year (13.3): problems found,
  measures, typical cases, rectification state, and its review state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow

PROGRAM_SHORT = {"demo_zone": "示范区", "two_mountains": "两山基地"}


class CreationTitle(Base):
    __tablename__ = "creation_title"
    __table_args__ = (UniqueConstraint("district_code", "program"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(20), index=True)
    district_name: Mapped[str] = mapped_column(String(60))
    program: Mapped[str] = mapped_column(String(20))  # demo_zone | two_mountains
    year_awarded: Mapped[int] = mapped_column(Integer)
    batch: Mapped[str] = mapped_column(String(60), default="")  # 第几批
    note: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChecklistValue(Base):
    __tablename__ = "creation_value"
    __table_args__ = (UniqueConstraint("district_code", "indicator_code", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(20), index=True)
    district_name: Mapped[str] = mapped_column(String(60))
    indicator_code: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer, index=True)
    value_number: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_bool: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    previous_number: Mapped[float | None] = mapped_column(Float, nullable=True)  # 不降低
    evidence_text: Mapped[str] = mapped_column(Text, default="")
    evidence_file: Mapped[Any] = mapped_column(JSONType, nullable=True)  # {sha256, name, mime}
    source: Mapped[str] = mapped_column(Text)
    as_of: Mapped[dt.date] = mapped_column(Date)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CreationTask(Base):
    __tablename__ = "creation_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(20), index=True)
    district_name: Mapped[str] = mapped_column(String(60))
    program: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(10))  # 目标任务 | 工程项目
    name: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    state: Mapped[str] = mapped_column(String(10))  # 未开始 | 推进中 | 已完成 | 滞后
    progress: Mapped[Any] = mapped_column(JSONType, default=list)  # [{on, by, state, text}]
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class PostEvaluation(Base):
    __tablename__ = "creation_post_eval"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(20), index=True)
    district_name: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer, index=True)
    program: Mapped[str] = mapped_column(String(20))
    problems: Mapped[str] = mapped_column(Text, default="")  # 发现的问题
    measures: Mapped[str] = mapped_column(Text, default="")  # 对策措施
    cases: Mapped[str] = mapped_column(Text, default="")  # 典型案例
    rectification: Mapped[str] = mapped_column(String(10))  # 未整改 | 整改中 | 已整改
    state: Mapped[str] = mapped_column(String(12), index=True)  # see posteval.STATES
    review_note: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
