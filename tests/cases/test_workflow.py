"""The clue workflow: every (state, action, account) cell of the matrix, the steps' required
reasons, photos and plans, deadlines, visibility, reassignment and the reminder job."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import func, select

from ecoplan import audit, db
from ecoplan.cases.batches import file_batch
from ecoplan.cases.importing import ClueRecords
from ecoplan.cases.models import CLUE_STATES, Clue, ClueEvent, CluePhoto
from ecoplan.cases.photos import make_photo
from ecoplan.cases.queries import ClueFilter, list_clues, stats
from ecoplan.cases.reminders import run_clue_reminders
from ecoplan.cases.spatial import Districts
from ecoplan.cases.workflow import ACTIONS, PhotoUpload, RectificationPlan, reassign, step
from ecoplan.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from ecoplan.supervision.models import Notification, SupervisionOrder
from tests.cases.conftest import TODAY, account, square
from tests.supervision.conftest import World

NOW = dt.datetime(2024, 6, 3, 2, 0, tzinfo=dt.UTC)  # 10:00 Beijing time on TODAY
CHAOYANG = (116.52, 39.93)
USERS = ("chaoyang", "haidian", "ghzrzyw", "sthjj", "coord", "leader", "admin")

# Who may take each action on a 朝阳 red-line clue (verifying unit 市规划自然资源委), written
# out from the issue rather than derived from the code under test.
ALLOWED = {
    "start": {"chaoyang"}, "confirm": {"chaoyang"}, "reject": {"chaoyang"}, "plan": {"chaoyang"},
    "submit": {"chaoyang"}, "close": {"ghzrzyw"}, "return": {"ghzrzyw"}, "reopen": {"ghzrzyw", "coord"},
}  # fmt: skip
MOVES = {
    ("pending", "start"): "verifying", ("verifying", "confirm"): "confirmed",
    ("verifying", "reject"): "rejected", ("confirmed", "plan"): "rectifying",
    ("rectifying", "submit"): "accepting", ("accepting", "close"): "closed",
    ("rejected", "close"): "closed", ("accepting", "return"): "rectifying",
    ("rejected", "return"): "verifying", ("closed", "reopen"): "verifying",
}  # fmt: skip
CAN_SEE = {"chaoyang", "ghzrzyw", "coord", "leader", "admin"}


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    token = db.frozen_now.set(NOW)
    yield
    db.frozen_now.reset(token)


def new_clues(
    world: World, districts: Districts, *points: tuple[float, float], kind: str = "redline_activity"
) -> list[int]:
    records = ClueRecords(
        codes=[f"C-{i + 1}" for i in range(len(points))],
        geoms=np.asarray([square(x, y) for x, y in points], dtype=object),
        attrs=[{"activity_type": "housing", "source": "", "period": "2024Q2", "legal_basis": "", "note": ""}] * len(points),
        facts=[{}] * len(points),
    )  # fmt: skip
    with db.session_scope(world.engine) as session:
        result = file_batch(session, records, kind=kind, title="t", actor="test", source={}, today=TODAY,
                            districts=districts)  # fmt: skip
        return [c.id for c in result.batch.clues]


def photo(lon: float = CHAOYANG[0], lat: float = CHAOYANG[1], hours: float = -1.0) -> PhotoUpload:
    return PhotoUpload(make_photo(lon, lat, NOW + dt.timedelta(hours=hours)), "现场.jpg")


def kwargs_for(action: str) -> dict[str, Any]:
    spec = ACTIONS[action]
    out: dict[str, Any] = {"reason": "现场核实情况" if spec.needs_reason else "", "today": TODAY}
    if spec.needs_photo:
        out["photos"] = [photo()]
    if spec.needs_plan:
        out["plan"] = RectificationPlan(
            "某建设公司", "拆除违建并复绿", TODAY + dt.timedelta(days=60)
        )
    return out


def test_matrix_of_states_actions_and_accounts(cworld: World, districts: Districts) -> None:
    (clue_id,) = new_clues(cworld, districts, CHAOYANG)
    outcomes: dict[tuple[str, str, str], str] = {}
    for state in CLUE_STATES:
        for action in ACTIONS:
            for user in USERS:
                with db.session_scope(cworld.engine) as session:
                    clue = session.get(Clue, clue_id)
                    assert clue is not None
                    clue.state = state
                    session.flush()
                    try:
                        result = step(
                            session, account(session, user), clue_id, action, **kwargs_for(action)
                        )
                        outcomes[(state, action, user)] = result.clue.state
                    except (NotFoundError, PermissionDenied, ValidationError) as exc:
                        outcomes[(state, action, user)] = type(exc).__name__
                    session.rollback()  # every cell starts from the same clue
    for (state, action, user), got in outcomes.items():
        if user not in CAN_SEE:
            expected = "NotFoundError"  # another district's clue does not exist for them
        elif (state, action) not in MOVES:
            expected = "ValidationError"  # not a step from this state, whoever asks
        elif user not in ALLOWED[action]:
            expected = "PermissionDenied"
        else:
            expected = MOVES[(state, action)]
        assert got == expected, (state, action, user)
    # 7 states × 8 actions × 7 accounts, and exactly the 10 moves × their actors succeed
    assert len(outcomes) == 392
    assert sum(1 for v in outcomes.values() if v in CLUE_STATES) == sum(
        len(ALLOWED[a]) for _, a in MOVES
    )


def test_walk_through_sets_deadlines_and_keeps_history(cworld: World, districts: Districts) -> None:
    (clue_id,) = new_clues(cworld, districts, CHAOYANG)
    steps = [("chaoyang", "start"), ("chaoyang", "confirm"), ("chaoyang", "plan"), ("chaoyang", "submit"),
             ("ghzrzyw", "return"), ("chaoyang", "submit"), ("ghzrzyw", "close")]  # fmt: skip
    dues = []
    for user, action in steps:
        with db.session_scope(cworld.engine) as session:
            result = step(session, account(session, user), clue_id, action, **kwargs_for(action))
            dues.append(result.clue.due_on)
    # rules: verifying 30 d, confirmed 15 d, rectifying = the plan's date (TODAY + 60), accepting 15 d
    assert dues == [TODAY + dt.timedelta(days=30), TODAY + dt.timedelta(days=15), TODAY + dt.timedelta(days=60),
                    TODAY + dt.timedelta(days=15), TODAY + dt.timedelta(days=60), TODAY + dt.timedelta(days=15),
                    None]  # fmt: skip
    with db.session_scope(cworld.engine) as session:
        clue = session.get(Clue, clue_id)
        assert clue is not None and clue.state == "closed" and clue.closed_at == NOW
        assert [e.action for e in clue.events] == [a for _, a in steps]
        assert len(clue.photos) == 3  # confirm, submit, submit
        assert clue.plan == {
            "responsible": "某建设公司",
            "measures": "拆除违建并复绿",
            "deadline": "2024-08-02",
        }
        entries = [
            e.action for e in audit.entries(session, entity_type="clue", entity_id=str(clue_id))
        ]
        assert entries == [f"clue.{a}" for _, a in steps]


@pytest.mark.parametrize(
    ("action", "change", "message"),
    [
        ("confirm", {"reason": "  "}, "须填写理由"),
        ("confirm", {"photos": []}, "须上传带拍摄位置的现场照片"),
        (
            "confirm",
            {"photos": [PhotoUpload(make_photo(None, None, NOW), "转发.jpg")]},
            "缺少拍摄位置",
        ),
        ("confirm", {"photos": [PhotoUpload(b"%PDF-1.4 report", "报告.pdf")]}, "现场照片须为 JPG"),
        ("confirm", {"photos": [PhotoUpload(b"not an image at all", "现场.jpg")]}, "不符"),
    ],
)
def test_steps_refuse_what_a_file_needs(cworld: World, districts: Districts, action: str,
                                        change: dict[str, Any], message: str) -> None:  # fmt: skip
    (clue_id,) = new_clues(cworld, districts, CHAOYANG)
    with db.session_scope(cworld.engine) as session:
        step(session, account(session, "chaoyang"), clue_id, "start", today=TODAY)
    with pytest.raises(ValidationError, match=message), db.session_scope(cworld.engine) as session:
        step(
            session, account(session, "chaoyang"), clue_id, action, **(kwargs_for(action) | change)
        )
    with db.session_scope(cworld.engine) as session:
        assert session.get(Clue, clue_id).state == "verifying"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(CluePhoto)) == 0


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (None, "须提交整改方案"),
        (RectificationPlan(" ", "拆除", TODAY + dt.timedelta(days=9)), "缺少责任主体"),
        (RectificationPlan("某公司", "拆除", TODAY), "须晚于今天"),
    ],
)
def test_plan_is_checked(
    cworld: World, districts: Districts, plan: RectificationPlan | None, message: str
) -> None:
    (clue_id,) = new_clues(cworld, districts, CHAOYANG)
    with db.session_scope(cworld.engine) as session:
        clue = session.get(Clue, clue_id)
        clue.state = "confirmed"  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match=message), db.session_scope(cworld.engine) as session:
        step(session, account(session, "chaoyang"), clue_id, "plan", plan=plan, today=TODAY)


def test_far_and_early_photos_are_accepted_but_flagged(cworld: World, districts: Districts) -> None:
    (clue_id,) = new_clues(cworld, districts, CHAOYANG)
    # 0.005° of latitude ≈ 555 m north of the centre; the square's edge is 0.001° ≈ 111 m north,
    # so the photo stands ≈ 444 m from the clue: more than the 300 m limit
    far = PhotoUpload(
        make_photo(CHAOYANG[0], CHAOYANG[1] + 0.005, NOW - dt.timedelta(hours=1)), "远景.jpg"
    )
    early = photo(hours=-72)  # three days before the batch was issued (tolerance: one day)
    with db.session_scope(cworld.engine) as session:
        user = account(session, "chaoyang")
        step(session, user, clue_id, "start", today=TODAY)
        result = step(
            session,
            user,
            clue_id,
            "confirm",
            reason="属实",
            photos=[far, early, photo()],
            today=TODAY,
        )
        assert result.flags == ["before_issue", "far"]
        by_name = {p.name: p for p in result.clue.photos}
        assert by_name["远景.jpg"].flags == ["far"]
        assert by_name["远景.jpg"].distance_m == pytest.approx(444, abs=3)
        assert by_name["现场.jpg"].distance_m == 0.0
        assert result.event.data["flags"] == ["before_issue", "far"]


def test_stale_version_is_refused(cworld: World, districts: Districts) -> None:
    (clue_id,) = new_clues(cworld, districts, CHAOYANG)
    with db.session_scope(cworld.engine) as session:
        version = session.get(Clue, clue_id).version  # type: ignore[union-attr]
        step(
            session,
            account(session, "chaoyang"),
            clue_id,
            "start",
            expected_version=version,
            today=TODAY,
        )
    with pytest.raises(ConflictError), db.session_scope(cworld.engine) as session:
        step(session, account(session, "chaoyang"), clue_id, "reject", expected_version=version,
             **kwargs_for("reject"))  # fmt: skip


def test_visibility_and_reassignment(cworld: World, districts: Districts) -> None:
    ids = new_clues(cworld, districts, CHAOYANG, (116.22, 40.05))  # 朝阳, 海淀
    with db.session_scope(cworld.engine) as session:
        counts = {
            u: list_clues(session, account(session, u), ClueFilter(), TODAY)[0] for u in USERS
        }
        assert counts == {
            "chaoyang": 1,
            "haidian": 1,
            "ghzrzyw": 2,
            "sthjj": 0,
            "coord": 2,
            "leader": 2,
            "admin": 2,
        }
        with pytest.raises(PermissionDenied):
            reassign(session, account(session, "chaoyang"), ids[0], "110108", reason="不在我区")
        with pytest.raises(ValidationError, match="须填写理由"):
            reassign(session, account(session, "coord"), ids[0], "110108", reason="")
        reassign(session, account(session, "coord"), ids[0], "110108", reason="实地位于海淀区一侧")
    with db.session_scope(cworld.engine) as session:
        with pytest.raises(NotFoundError):
            step(session, account(session, "chaoyang"), ids[0], "start", today=TODAY)
        assert (
            step(session, account(session, "haidian"), ids[0], "start", today=TODAY).clue.state
            == "verifying"
        )
        s = stats(session, account(session, "haidian"), TODAY)
        assert (s.total, s.by_state) == (2, {"pending": 1, "verifying": 1})


def test_reminders_group_escalate_order_and_resolve(cworld: World, districts: Districts) -> None:
    ids = new_clues(cworld, districts, CHAOYANG, (116.53, 39.93), (116.54, 39.93))
    # pending clues are due TODAY + 10 = 2024-06-13; remind window 7 days
    with db.session_scope(cworld.engine) as session:
        run = run_clue_reminders(session, dt.date(2024, 6, 6), actor="test")  # 7 days before
        assert [n.kind for n in run.notifications] == ["remind"]
        assert "3 条生态保护红线人类活动问题线索" in run.notifications[0].message
        assert run_clue_reminders(session, dt.date(2024, 6, 6), actor="test").notifications == []
        # 2024-06-30 is 17 days late: overdue for 朝阳, an order on measure 6.1, and more than
        # 2 × 7 days late, so 市规划自然资源委 is told as well
        run = run_clue_reminders(session, dt.date(2024, 6, 30), actor="test")
        assert sorted(n.kind for n in run.notifications) == ["overdue", "overdue"]
        assert any(n.message.startswith("【抄送】") for n in run.notifications)
        (order,) = run.orders
        assert (
            order.measure.doc_id.startswith("6.")
            and "生态保护红线人类活动问题线索" in order.measure.text
        )
        assert (
            run_clue_reminders(session, dt.date(2024, 7, 1), actor="test").orders == []
        )  # one open order
    for clue_id in ids:
        with db.session_scope(cworld.engine) as session:
            step(session, account(session, "chaoyang"), clue_id, "start", today=dt.date(2024, 7, 2))
    with db.session_scope(cworld.engine) as session:
        run = run_clue_reminders(session, dt.date(2024, 7, 3), actor="test")
        assert run.resolved == 1
        assert session.scalar(select(func.count()).select_from(SupervisionOrder).where(
            SupervisionOrder.resolved_on.is_(None))) == 0  # fmt: skip
        # one digest a day while clues stay late: 06-06 remind; 06-30 and 07-01 overdue + 抄送
        assert session.scalar(select(func.count()).select_from(Notification)) == 1 + 2 + 2
        assert session.scalar(select(func.count()).select_from(ClueEvent)) == 3


def test_point_clue_photo_distance(cworld: World, districts: Districts) -> None:
    """A point clue: the photo's distance is the distance between two points."""
    records = ClueRecords(["P-1"], np.asarray([shapely.Point(*CHAOYANG)], dtype=object),
                          [{"activity_type": "other", "source": "report", "period": "", "legal_basis": "", "note": ""}],
                          [{}])  # fmt: skip
    with db.session_scope(cworld.engine) as session:
        clue = file_batch(session, records, kind="mining", title="举报", actor="test", source={}, today=TODAY,
                          districts=districts).batch.clues[0]  # fmt: skip
        user = account(session, "chaoyang")
        step(session, user, clue.id, "start", today=TODAY)
        # 0.001° of longitude at 39.93° N ≈ 111.32 km × cos 39.93° / 1000 ≈ 85.4 m
        result = step(session, user, clue.id, "reject", reason="已有审批手续",
                      photos=[photo(CHAOYANG[0] + 0.001, CHAOYANG[1])], today=TODAY)  # fmt: skip
        assert result.clue.photos[0].distance_m == pytest.approx(85.4, abs=0.5)
        assert result.flags == []
