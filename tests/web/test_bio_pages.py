"""Biodiversity pages through the app (SQLite and PostgreSQL): a district submits a survey sheet,
the city reads its figures and flags, publishes it, the public sees the species without the
protected species' districts; the species list and its admin upload; refusals change nothing.

The clock is the web fixtures' demo date, 2024-07-10.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecoplan.db import session_scope
from ecoplan.monitoring.models import Occurrence, Survey, Taxon
from ecoplan.monitoring.taxa import load_taxa_csv

from ..supervision.conftest import World
from .conftest import csrf_of

Login = Callable[[str], TestClient]
TAXA = (
    "学名,中文名,国家保护级别,三有,类群\n"
    "Ciconia nigra,黑鹳,国家一级,否,鸟类\n"
    "Parus minor,远东山雀,,是,鸟类\n"
)
SHEET = (
    "样线编号,调查日期,经度,纬度,物种,数量,记录人,样线长度(km),记录编号\n"
    "T1,2024-05-12,116.22,40.05,黑鹳,2,王,3.0,o1\n"
    "T1,2024-05-12,116.22,40.05,远东山雀,9,王,3.0,o2\n"
    "T2,2024-05-13,116.30,40.06,远东山雀,4,王,2.0,o3\n"
    "T2,2024-05-13,116.30,40.06,白鹳,1,王,2.0,o4\n"  # not in the list: kept, flagged
)


def _load_taxa(world: World) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "taxa.csv"
        path.write_text(TAXA, encoding="utf-8")
        with session_scope(world.engine) as session:
            load_taxa_csv(session, path, actor="test")


def _submit(client: TestClient, data: bytes, name: str = "birds.csv") -> Any:
    return client.post("/biodiversity/import", data={
        "csrf": csrf_of(client, "/biodiversity"), "title": "2024 海淀区鸟类样线", "year": "2024",
        "protocol": "bird_transect"}, files={"file": (name, data, "text/csv")})  # fmt: skip


def test_district_submits_city_publishes_public_reads(world: World, login: Login) -> None:
    _load_taxa(world)
    haidian = login("haidian")
    response = _submit(haidian, SHEET.encode("utf-8"))
    assert response.status_code == 303, response.text
    location = unquote(response.headers["location"])
    # events are (transect, date): T1 and T2; 4 records; one unmatched name flagged
    assert "已导入: 2 个采样事件,4 条记录,质量标注 1 处,1 个物种名未匹配" in location
    with session_scope(world.engine) as session:
        survey = session.scalars(select(Survey)).one()
        assert survey.unit_id is not None and survey.source["file"] == "birds.csv"
        survey_id = survey.id
    page = haidian.get(f"/biodiversity/surveys/{survey_id}").text
    assert "物种名未匹配" in page and "白鹳 × 1" in page and "发布到公开物种名录" not in page

    coord = login("coord")
    overview = coord.get("/biodiversity?year=2024").text
    assert "2024 海淀区鸟类样线" in overview and "海淀区" in overview
    # 海淀区 over 黑鹳 2 + 远东山雀 13 = 15 individuals of 2 species (白鹳 unmatched, left out)
    assert '<td class="num">2</td><td class="num">15</td>' in overview
    assert "黑鹳" in overview and "国家一级" in overview  # protected species recorded
    archive = coord.get(f"/biodiversity/surveys/{survey_id}/dwca.zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert {"meta.xml", "eml.xml"} <= set(z.namelist())
        # every record of an event holding a national key species is generalised to 0.1°
        occurrences = next(n for n in z.namelist() if "occurrence" in n.lower())
        rows = {r["occurrenceID"]: r for r in csv.DictReader(
            io.StringIO(z.read(occurrences).decode("utf-8")), delimiter="\t")}  # fmt: skip
    # T1 holds 黑鹳: both its records lose the second decimal; T2's records keep theirs
    generalised = {
        (r["decimalLatitude"], r["decimalLongitude"]) for k, r in rows.items() if k in ("o1", "o2")
    }
    assert generalised == {("40.0", "116.2")}  # 40.05 rounds to 40.0 (binary 40.04999…)
    assert (rows["o3"]["decimalLatitude"], rows["o3"]["decimalLongitude"]) == ("40.06", "116.3")

    assert coord.get("/public/species").text.count("<i>") == 0  # nothing published yet
    published = coord.post(f"/biodiversity/surveys/{survey_id}/publish",
                           data={"csrf": csrf_of(coord, "/biodiversity"), "publish": "1"})  # fmt: skip
    assert published.status_code == 303
    public = TestClient(coord.app).get("/public/species").text  # no session: the public
    assert "远东山雀" in public and "黑鹳" in public
    row = public[public.index("黑鹳") :]
    assert row[: row.index("</tr>")].count("不公开") == 1  # protected: no district shown
    row = public[public.index("远东山雀") :]
    assert "海淀区" in row[: row.index("</tr>")]


def test_refusals_change_nothing(world: World, login: Login) -> None:
    _load_taxa(world)
    haidian = login("haidian")
    # a sheet without the effort column the transect protocol requires: refused whole
    bad = SHEET.replace(",样线长度(km)", "").replace(",3.0,", ",").replace(",2.0,", ",")
    response = _submit(haidian, bad.encode("utf-8"))
    assert response.status_code == 422 and "缺少列" in response.text
    assert _submit(haidian, b"MZ\x00\x00", "x.exe").status_code == 422
    # a unit may not publish, nor load the species list
    _submit(haidian, SHEET.encode("utf-8"))
    with session_scope(world.engine) as session:
        survey_id = session.scalars(select(Survey.id)).one()
    token = csrf_of(haidian, "/biodiversity")
    assert haidian.post(f"/biodiversity/surveys/{survey_id}/publish",
                        data={"csrf": token, "publish": "1"}).status_code == 403  # fmt: skip
    upload = haidian.post("/species/import", data={"csrf": token},
                          files={"file": ("t.csv", b"x", "text/csv")})  # fmt: skip
    assert upload.status_code == 403
    leader = login("leader")
    assert 'action="/biodiversity/import"' not in leader.get("/biodiversity").text
    with session_scope(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(Occurrence)) == 4  # one import only
        assert session.scalar(select(Survey.published_at)) is None


def test_species_list_and_admin_upload(world: World, login: Login) -> None:
    admin = login("admin")
    upload = admin.post("/species/import", data={"csrf": csrf_of(admin, "/species")},
                        files={"file": ("taxa.csv", TAXA.encode("utf-8"), "text/csv")})  # fmt: skip
    assert upload.status_code == 303 and "新增 2 个" in unquote(upload.headers["location"])
    page = admin.get("/species?level=I").text
    assert "黑鹳" in page and "远东山雀" not in page
    assert "远东山雀" in admin.get("/species?q=Parus").text
    broken = admin.post("/species/import", data={"csrf": csrf_of(admin, "/species")},
                        files={"file": ("taxa.csv", "学名,中文名\nFoo bar,\n".encode(), "text/csv")})  # fmt: skip
    assert broken.status_code == 422
    with session_scope(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(Taxon)) == 2
