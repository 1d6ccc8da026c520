"""Store plans as revisions with stable measure IDs (``M001`` …).

Importing the same file again, or a file with the same content, changes nothing. A
corrected file makes a new revision: each new measure is matched to a stored one (same
number and similar text, else the most similar text) and keeps its ID; a field someone set by
hand (``manual_fields``) keeps the hand-set value. Every write is audited; the caller's
session is one transaction.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.errors import NotFoundError, ValidationError
from ecoplan.plans.columns import AMBIGUOUS_COLUMNS
from ecoplan.plans.deadlines import parse_deadline
from ecoplan.plans.document import ROLES, Measure, PlanDocument
from ecoplan.plans.models import Measure as MeasureRow
from ecoplan.plans.models import MeasureUnit, Plan, PlanRevision
from ecoplan.units.directory import UnitDirectory, normalize_name
from ecoplan.units.models import Unit

MATCH_THRESHOLD = 0.6  # difflib ratio above which two measure texts are "the same measure"
EDITABLE = ("text", "deadline", *ROLES)


@dataclass
class ImportResult:
    status: str  # created | unchanged | revised
    plan: Plan
    revision: PlanRevision | None
    changes: list[Change] = field(default_factory=list)


@dataclass
class Change:
    uid: str
    doc_id: str
    kind: str  # added | removed | changed | kept-manual
    field: str = ""
    before: Any = None
    after: Any = None


def plan_key(title: str, year: int | None) -> str:
    return f"{normalize_name(title)}|{year or ''}"


def _content(doc: PlanDocument) -> dict[str, Any]:
    return {
        "title": doc.title,
        "year": doc.year,
        "measures": [
            {
                "section": [s.number, s.title],
                "task": [t.number, t.title],
                "id": m.id,
                "text": m.text,
                "deadline": m.deadline.model_dump(mode="json"),
                **{role: m.units(role) for role in ROLES},
            }
            for s, t, m in doc.walk()
        ],
    }


def content_hash(doc: PlanDocument) -> str:
    text = json.dumps(_content(doc), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- reading ----------------------------------------------------------------------------------
def plan_by_ref(session: Session, ref: str | None = None) -> Plan:
    """A plan by id, key or part of its title; the only plan when ``ref`` is None."""
    plans = list(session.scalars(select(Plan).order_by(Plan.id)))
    if ref is None:
        if len(plans) == 1:
            return plans[0]
        raise NotFoundError("数据库中没有计划" if not plans else "有多个计划,请用 --plan 指定")
    for plan in plans:
        if ref in (str(plan.id), plan.key) or ref in plan.title:
            return plan
    raise NotFoundError(f"没有找到计划“{ref}”")


def current_revision(plan: Plan) -> PlanRevision:
    return plan.revisions[-1]


def current_document(plan: Plan) -> PlanDocument:
    return PlanDocument.model_validate(current_revision(plan).document)


def uids_of(revision: PlanRevision) -> list[str]:
    return [
        m["uid"] for s in revision.document["sections"] for t in s["tasks"] for m in t["measures"]
    ]


def measures_by_uid(revision: PlanRevision) -> dict[str, Measure]:
    """The revision's document measures keyed by their stable uid."""
    document = PlanDocument.model_validate(revision.document)
    return dict(zip(uids_of(revision), document.measures(), strict=True))


def active_measures(session: Session, plan: Plan) -> list[MeasureRow]:
    query = select(MeasureRow).where(MeasureRow.plan_id == plan.id, MeasureRow.removed.is_(False))
    return list(session.scalars(query.order_by(MeasureRow.position)))


def measure_by_uid(session: Session, plan: Plan, uid: str) -> MeasureRow:
    row = session.scalar(
        select(MeasureRow).where(MeasureRow.plan_id == plan.id, MeasureRow.uid == uid)
    )
    if row is None:
        raise NotFoundError(f"计划中没有措施“{uid}”")
    return row


# -- importing --------------------------------------------------------------------------------
def import_document(
    session: Session,
    doc: PlanDocument,
    *,
    actor: str,
    directory: UnitDirectory,
    parser_version: str,
) -> ImportResult:
    key = plan_key(doc.title, doc.year)
    plan = session.scalar(select(Plan).where(Plan.key == key))
    digest = content_hash(doc)
    if plan is None:
        plan = Plan(key=key, title=doc.title, year=doc.year)
        session.add(plan)
        session.flush()
        audit.record(session, actor=actor, action="plan.create", entity_type="plan", entity_id=plan.id,
                     after={"key": key, "title": doc.title, "year": doc.year})  # fmt: skip
        uids = [f"M{i:03d}" for i in range(1, sum(1 for _ in doc.measures()) + 1)]
        revision = _new_revision(session, plan, doc, uids, actor=actor, kind="import",
                                 parser_version=parser_version, directory=directory)  # fmt: skip
        return ImportResult("created", plan, revision)
    if any(r.sha256 == doc.source.sha256 for r in plan.revisions) or (
        current_revision(plan).content_hash == digest
    ):
        return ImportResult("unchanged", plan, None)
    old = current_document(plan)
    old_uids = uids_of(current_revision(plan))
    uids, changes = match_measures(old, old_uids, doc, _next_uid_number(session, plan))
    manual = {row.uid: row for row in active_measures(session, plan) if row.manual_fields}
    old_by_uid = dict(zip(old_uids, old.measures(), strict=True))
    for uid, measure in zip(uids, doc.measures(), strict=True):
        if uid in manual:
            old_measure = old_by_uid[uid]
            for name in manual[uid].manual_fields:
                new_value = getattr(measure, name)
                kept = getattr(old_measure, name)
                if new_value != kept:
                    setattr(measure, name, kept)
                    changes.append(Change(uid, measure.id, "kept-manual", name, new_value, kept))
    revision = _new_revision(session, plan, doc, uids, actor=actor, kind="import",
                             parser_version=parser_version, directory=directory)  # fmt: skip
    return ImportResult("revised", plan, revision, changes)


def match_measures(
    old: PlanDocument, old_uids: list[str], new: PlanDocument, next_number: int
) -> tuple[list[str], list[Change]]:
    """UIDs for the measures of ``new``: matched ones keep theirs, new ones get fresh IDs."""
    old_measures = list(zip(old_uids, old.measures(), strict=True))
    free = {uid for uid, _ in old_measures}
    uids: list[str] = []
    changes: list[Change] = []
    for measure in new.measures():
        best: tuple[float, str] | None = None
        for uid, candidate in old_measures:
            if uid not in free:
                continue
            ratio = difflib.SequenceMatcher(
                None, candidate.text, measure.text, autojunk=False
            ).ratio()
            score = ratio + (0.5 if candidate.id == measure.id else 0.0)
            if ratio >= MATCH_THRESHOLD and (best is None or score > best[0]):
                best = (score, uid)
        if best is None:
            uid = f"M{next_number:03d}"
            next_number += 1
            changes.append(Change(uid, measure.id, "added"))
        else:
            uid = best[1]
            free.discard(uid)
        uids.append(uid)
    for uid, candidate in old_measures:
        if uid in free:
            changes.append(Change(uid, candidate.id, "removed"))
    return uids, changes


def _next_uid_number(session: Session, plan: Plan) -> int:
    count = session.scalar(
        select(func.count()).select_from(MeasureRow).where(MeasureRow.plan_id == plan.id)
    )
    return int(count or 0) + 1


def _new_revision(
    session: Session,
    plan: Plan,
    doc: PlanDocument,
    uids: list[str],
    *,
    actor: str,
    kind: str,
    directory: UnitDirectory,
    parser_version: str | None = None,
    note: str | None = None,
) -> PlanRevision:
    snapshot = doc.to_json_dict()
    flat = [m for s in snapshot["sections"] for t in s["tasks"] for m in t["measures"]]
    for uid, measure in zip(uids, flat, strict=True):
        measure["uid"] = uid
    revision = PlanRevision(
        plan=plan,
        number=len(plan.revisions) + 1,
        kind=kind,
        source_file=doc.source.file if kind == "import" else None,
        sha256=doc.source.sha256 if kind == "import" else None,
        format=doc.source.format if kind == "import" else None,
        parser_version=parser_version,
        content_hash=content_hash(doc),
        document=snapshot,
        actor=actor,
        note=note,
    )
    session.add(revision)
    session.flush()
    audit.record(
        session, actor=actor, action=f"plan.revision.{kind}", entity_type="plan", entity_id=plan.id,
        after={"revision": revision.number, "sha256": revision.sha256, "file": revision.source_file,
               "parser_version": parser_version, "content_hash": revision.content_hash},
    )  # fmt: skip
    _sync_measures(session, plan, doc, uids, directory, actor=actor)
    return revision


def _sync_measures(
    session: Session,
    plan: Plan,
    doc: PlanDocument,
    uids: list[str],
    directory: UnitDirectory,
    *,
    actor: str,
) -> None:
    """Make the measure rows match the document: update, add, mark removed; audit each."""
    rows = {
        row.uid: row
        for row in session.scalars(select(MeasureRow).where(MeasureRow.plan_id == plan.id))
    }
    units = {u.name: u for u in session.scalars(select(Unit))}
    seen: set[str] = set()
    for position, ((section, task, measure), uid) in enumerate(zip(doc.walk(), uids, strict=True)):
        seen.add(uid)
        row = rows.get(uid)
        before = _row_state(row) if row is not None else None
        if row is None:
            row = MeasureRow(plan_id=plan.id, uid=uid, manual_fields=[], reviewed=False)
            session.add(row)
        row.position = position
        row.doc_id = measure.id
        row.section_number, row.section_title = section.number, section.title
        row.task_number, row.task_title = task.number, task.title
        row.text = measure.text
        row.deadline_raw, row.deadline_kind, row.due = (
            measure.deadline.raw,
            measure.deadline.kind,
            measure.deadline.due,
        )
        row.confidence = measure.confidence
        row.warnings = list(measure.warnings)
        row.targets = [t.model_dump(mode="json") for t in measure.targets]
        row.removed = False
        assignments = _assignments(measure, directory, units)
        # Keep the existing rows (and their IDs, which supervision refers to) when nothing changed.
        if [_assignment_key(a) for a in assignments] != [
            _assignment_key(a) for a in row.assignments
        ]:
            row.assignments = assignments
        after = _row_state(row)
        if before != after:
            audit.record(session, actor=actor, action="measure.create" if before is None else "measure.update",
                         entity_type="measure", entity_id=f"{plan.id}/{uid}", before=before, after=after)  # fmt: skip
    session.flush()
    for uid, row in rows.items():
        if uid not in seen and not row.removed:
            row.removed = True
            audit.record(session, actor=actor, action="measure.remove", entity_type="measure",
                         entity_id=f"{plan.id}/{uid}", before=_row_state(row))  # fmt: skip


def _assignments(
    measure: Measure, directory: UnitDirectory, units: dict[str, Unit]
) -> list[MeasureUnit]:
    out: list[MeasureUnit] = []
    for role in ROLES:
        for written in measure.units(role):
            resolution = directory.resolve(written)
            if resolution.kind == "placeholder":
                out.append(MeasureUnit(role=role, written=written, placeholder=True))
            elif resolution.units:
                for info in resolution.units:
                    unit = units.get(info.name)
                    out.append(
                        MeasureUnit(role=role, written=written, unit_id=unit.id if unit else None)
                    )
            else:
                out.append(MeasureUnit(role=role, written=written))
    return out


def _assignment_key(a: MeasureUnit) -> tuple[str, str, int | None, bool]:
    return (a.role, a.written, a.unit_id, bool(a.placeholder))


def _row_state(row: MeasureRow) -> dict[str, Any]:
    return {
        "doc_id": row.doc_id,
        "text": row.text,
        "deadline": row.deadline_raw,
        "confidence": row.confidence,
        "reviewed": row.reviewed,
        "removed": row.removed,
        "units": [[a.role, a.written] for a in row.assignments] if row.assignments else [],
    }


# -- editing ----------------------------------------------------------------------------------
def revise(
    session: Session,
    plan: Plan,
    edits: dict[str, dict[str, Any]],
    *,
    actor: str,
    kind: str,
    directory: UnitDirectory,
    note: str | None = None,
) -> PlanRevision | None:
    """Apply hand edits ``{uid: {field: value}}`` as one new revision; None if nothing changed.

    Edited measures are marked reviewed (a person has looked at them) and their edited fields
    manual, so a later import of a corrected file does not undo them.
    """
    revision = current_revision(plan)
    doc = current_document(plan)
    uids = uids_of(revision)
    by_uid = dict(zip(uids, doc.measures(), strict=True))
    changed: dict[str, list[str]] = {}
    for uid, fields in edits.items():
        if uid not in by_uid:
            raise NotFoundError(f"计划中没有措施“{uid}”")
        measure = by_uid[uid]
        for name, value in fields.items():
            if name == "deadline":
                value, _ = parse_deadline(value, doc.year)
            elif name in ROLES:
                value = [normalize_name(v) for v in value if normalize_name(v)]
                unknown = [v for v in value if not directory.is_known(v)]
                if unknown:
                    raise ValidationError(f"不在单位名录中:{'、'.join(unknown)}")
            if getattr(measure, name) != value:
                setattr(measure, name, value)
                changed.setdefault(uid, []).append(name)
        if uid in changed:
            measure.warnings = [w for w in measure.warnings if AMBIGUOUS_COLUMNS not in w]
            measure.confidence = 1.0
    if not changed:
        return None
    new_revision = _new_revision(
        session, plan, doc, uids, actor=actor, kind=kind, directory=directory, note=note
    )
    for uid, names in changed.items():
        row = measure_by_uid(session, plan, uid)
        row.manual_fields = sorted(set(row.manual_fields or []) | set(names))
        row.reviewed = True
    return new_revision


def mark_reviewed(session: Session, plan: Plan, uids: list[str], *, actor: str) -> int:
    count = 0
    for uid in uids:
        row = measure_by_uid(session, plan, uid)
        if not row.reviewed:
            row.reviewed = True
            count += 1
            audit.record(session, actor=actor, action="measure.review", entity_type="measure",
                         entity_id=f"{plan.id}/{uid}", before={"reviewed": False}, after={"reviewed": True})  # fmt: skip
    return count


@dataclass
class ReviewItem:
    uid: str
    doc_id: str
    text: str
    confidence: float
    reasons: list[str]


def review_queue(session: Session, plan: Plan, threshold: float) -> list[ReviewItem]:
    """Measures a person must look at: low confidence (not yet reviewed) or undesignated units."""
    items: list[ReviewItem] = []
    for row in active_measures(session, plan):
        reasons: list[str] = []
        if row.confidence < threshold and not row.reviewed:
            reasons += [w for w in row.warnings if AMBIGUOUS_COLUMNS in w] or [
                f"可信度{row.confidence:.2f}"
            ]
        placeholders = sorted({a.written for a in row.assignments if a.placeholder})
        if placeholders:
            reasons.append(f"“{'、'.join(placeholders)}”待牵头单位指定")
        if reasons:
            items.append(ReviewItem(row.uid, row.doc_id, row.text, row.confidence, reasons))
    return items


# -- diff -------------------------------------------------------------------------------------
def diff_revisions(plan: Plan, from_number: int, to_number: int) -> list[Change]:
    revisions = {r.number: r for r in plan.revisions}
    if from_number not in revisions or to_number not in revisions:
        raise NotFoundError(f"计划只有第1至第{len(revisions)}版")
    a, b = revisions[from_number], revisions[to_number]
    old, new = measures_by_uid(a), measures_by_uid(b)
    changes: list[Change] = []
    for uid, measure in new.items():
        if uid not in old:
            changes.append(Change(uid, measure.id, "added", after=measure.text))
            continue
        before = old[uid]
        for name in ("id", *EDITABLE):
            x, y = getattr(before, name), getattr(measure, name)
            if name == "deadline":
                x, y = x.raw, y.raw
            if x != y:
                changes.append(Change(uid, measure.id, "changed", name, x, y))
    for uid, measure in old.items():
        if uid not in new:
            changes.append(Change(uid, measure.id, "removed", before=measure.text))
    return changes
