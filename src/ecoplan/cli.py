"""The ``ecoplan`` command: one Typer app with a sub-app per domain.

Commands are thin: they parse arguments, call domain functions inside one database
transaction, and print. Errors meant for users (:class:`~ecoplan.errors.EcoplanError`)
are printed as one line on stderr with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ecoplan.accounting.ei.cli import ei_app
from ecoplan.accounting.gep.cli import gep_app
from ecoplan.cases.cli import cases_app
from ecoplan.clikit import cli_actor, cli_engine, console, user_errors
from ecoplan.creation.cli import creation_app
from ecoplan.greenview.cli import greenview_app
from ecoplan.indicators.cli import targets_app
from ecoplan.monitoring.cli import bio_app
from ecoplan.reports.annual_cli import report_app

app = typer.Typer(help="EcoPlan:生态保护行动计划的督办与核算", no_args_is_help=True)
plan_app = typer.Typer(help="计划:解析、导入、修订、导出、核对", no_args_is_help=True)
units_app = typer.Typer(help="单位名录", no_args_is_help=True)
db_app = typer.Typer(help="数据库迁移", no_args_is_help=True)
app.add_typer(plan_app, name="plan")
app.add_typer(units_app, name="units")
remind_app = typer.Typer(help="提醒与督办", no_args_is_help=True)
users_app = typer.Typer(help="账号", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(remind_app, name="remind")
app.add_typer(users_app, name="users")
app.add_typer(ei_app, name="ei")
app.add_typer(gep_app, name="gep")
app.add_typer(cases_app, name="cases")
app.add_typer(bio_app, name="bio")
app.add_typer(report_app, name="report")
app.add_typer(greenview_app, name="greenview")
app.add_typer(targets_app, name="targets")
app.add_typer(creation_app, name="creation")


@plan_app.command("parse")
@user_errors
def plan_parse(
    file: Annotated[Path, typer.Argument(help="计划文件:PDF / DOCX / XLSX / CSV / TXT")],
    fmt: Annotated[str, typer.Option("--format", help="输出格式:json 或 table")] = "json",
) -> None:
    """解析计划文件并输出(不写数据库)。"""
    from ecoplan.plans.parsers import parse_file

    document = parse_file(file)
    if fmt == "json":
        sys.stdout.write(json.dumps(document.to_json_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    _print_document_table(document)


def _print_document_table(document: Any) -> None:
    table = Table(title=f"{document.title}({document.year or '年份未知'})")
    for column in ("编号", "工作措施", "完成时限", "牵头部门", "主责单位", "协办单位", "可信度"):
        table.add_column(column)
    for measure in document.measures():
        table.add_row(
            measure.id,
            measure.text[:24] + ("…" if len(measure.text) > 24 else ""),
            measure.deadline.raw or "",
            "、".join(measure.lead),
            "、".join(measure.responsible),
            "、".join(measure.assisting),
            f"{measure.confidence:.2f}",
        )
    console.print(table)


# -- database plumbing ------------------------------------------------------------------------


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """把数据库结构升级到最新版本。"""
    from ecoplan import db

    engine = db.make_engine()
    db.upgrade(engine)
    console.print(f"数据库已是最新版本:{db.current_revision(engine)}")


@db_app.command("backup")
@user_errors
def db_backup(out: Annotated[Path, typer.Argument(help="备份文件(.zip)")]) -> None:
    """备份全部数据和佐证材料到一个 zip 文件(可在 SQLite 与 PostgreSQL 之间恢复)。"""
    from ecoplan.config import get_settings
    from ecoplan.ops.backup import backup

    manifest = backup(cli_engine(), get_settings().data_dir, out)
    console.print(f"已备份到 {out}:{sum(manifest.rows.values())} 行,{manifest.evidence_files} 个佐证文件,"
                  f"数据库版本 {manifest.revision}")  # fmt: skip


@db_app.command("restore")
@user_errors
def db_restore(archive: Annotated[Path, typer.Argument(help="备份文件(.zip)")]) -> None:
    """把备份恢复到一个空数据库(先校验全部内容;目标有数据时拒绝)。"""
    from ecoplan.config import get_settings
    from ecoplan.ops.backup import restore

    manifest = restore(cli_engine(raw=True), get_settings().data_dir, archive)
    console.print(f"已恢复 {sum(manifest.rows.values())} 行和 {manifest.evidence_files} 个佐证文件")


@db_app.command("current")
@user_errors
def db_current() -> None:
    """显示数据库结构版本。"""
    from ecoplan import db

    engine = db.make_engine()
    console.print(
        f"当前版本:{db.current_revision(engine) or '未初始化'};最新版本:{db.head_revision()}"
    )


# -- plans ------------------------------------------------------------------------------------
def import_plan_file(session: Any, file: Path) -> Any:
    """Parse ``file`` and store it (the caller owns the transaction)."""
    from ecoplan.plans.parsers import PARSER_VERSION, parse_file
    from ecoplan.plans.store import import_document
    from ecoplan.units import service

    service.sync_builtin(session, actor=cli_actor())
    directory = service.directory(session)
    document = parse_file(file, directory)
    return import_document(
        session, document, actor=cli_actor(), directory=directory, parser_version=PARSER_VERSION
    )


@plan_app.command("import")
@user_errors
def plan_import(
    file: Annotated[Path, typer.Argument(help="计划文件,或由 plan export 导出并修改过的xlsx")],
) -> None:
    """导入计划(同一文件重复导入不产生变化);导入修改过的导出表则只更新改动的字段。"""
    from ecoplan.db import session_scope
    from ecoplan.plans.exchange import META_SHEET

    if file.suffix.lower() == ".xlsx" and _is_export(file, META_SHEET):
        _import_edits(file)
        return
    # Parsed inside the transaction (with the database's unit directory): a bad file
    # raises before anything is committed, so it leaves no rows behind.
    with session_scope(cli_engine()) as session:
        result = import_plan_file(session, file)
        _print_import(result)


def _is_export(file: Path, sheet: str) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(file) as archive:
            return sheet.encode() in archive.read("xl/workbook.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def _print_import(result: Any) -> None:
    plan, revision = result.plan, result.revision
    if result.status == "unchanged":
        console.print(f"计划“{plan.title}”没有变化(与已导入的版本相同),未写入任何内容。")
        return
    verb = "已创建" if result.status == "created" else "已修订"
    console.print(
        f"{verb}计划“{plan.title}”第{revision.number}版({revision.source_file},sha256 {revision.sha256[:12]}…)"
    )
    for change in result.changes:
        label = {"added": "新增", "removed": "删除", "kept-manual": "保留人工修改"}.get(
            change.kind, change.kind
        )
        console.print(f"  {change.uid} {change.doc_id} {label} {change.field}")


def _import_edits(file: Path) -> None:
    from ecoplan.db import session_scope
    from ecoplan.plans.exchange import apply_edited_xlsx
    from ecoplan.units import service

    with session_scope(cli_engine()) as session:
        plan, reports = apply_edited_xlsx(
            session, file, actor=cli_actor(), directory=service.directory(session)
        )
        table = Table(title=f"{plan.title}:逐行导入结果")
        for column in ("行", "措施编号", "结果", "说明"):
            table.add_column(column)
        for report in reports:
            table.add_row(str(report.row), report.uid, report.status, report.message)
        console.print(table)
        updated = sum(1 for r in reports if r.status == "已更新")
        console.print(f"共{len(reports)}行,更新{updated}行。")


@plan_app.command("list")
@user_errors
def plan_list() -> None:
    """列出已导入的计划。"""
    from sqlalchemy import select

    from ecoplan.db import session_scope
    from ecoplan.plans.models import Plan
    from ecoplan.plans.store import active_measures

    with session_scope(cli_engine()) as session:
        table = Table(title="计划")
        for column in ("编号", "标题", "年份", "版本", "措施"):
            table.add_column(column)
        for plan in session.scalars(select(Plan).order_by(Plan.id)):
            table.add_row(str(plan.id), plan.title, str(plan.year or ""), str(len(plan.revisions)),
                          str(len(active_measures(session, plan))))  # fmt: skip
        console.print(table)


PlanOption = Annotated[
    str | None, typer.Option("--plan", help="计划编号或标题(只有一个计划时可省略)")
]


@plan_app.command("show")
@user_errors
def plan_show(plan: PlanOption = None) -> None:
    """显示计划的当前版本。"""
    from ecoplan.db import session_scope
    from ecoplan.plans.store import current_document, plan_by_ref

    with session_scope(cli_engine()) as session:
        _print_document_table(current_document(plan_by_ref(session, plan)))


@plan_app.command("diff")
@user_errors
def plan_diff(
    from_rev: Annotated[int | None, typer.Option("--from", help="起始版本(默认上一版)")] = None,
    to_rev: Annotated[int | None, typer.Option("--to", help="目标版本(默认最新版)")] = None,
    plan: PlanOption = None,
) -> None:
    """显示两个版本之间的变化。"""
    from ecoplan.db import session_scope
    from ecoplan.plans.store import diff_revisions, plan_by_ref

    with session_scope(cli_engine()) as session:
        p = plan_by_ref(session, plan)
        to_number = to_rev or len(p.revisions)
        from_number = from_rev or max(1, to_number - 1)
        changes = diff_revisions(p, from_number, to_number)
        console.print(f"计划“{p.title}”第{from_number}版 → 第{to_number}版:{len(changes)}处变化")
        for c in changes:
            label = {"added": "新增", "removed": "删除", "changed": "修改"}[c.kind]
            detail = (
                f"{c.field}: {c.before!r} → {c.after!r}"
                if c.kind == "changed"
                else (c.after or c.before or "")
            )
            console.print(f"  {c.uid} ({c.doc_id}) {label} {detail}", markup=False, highlight=False)


@plan_app.command("export")
@user_errors
def plan_export(
    out: Annotated[Path, typer.Argument(help="输出文件")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx / csv / json")] = "xlsx",
    plan: PlanOption = None,
) -> None:
    """导出计划(带措施编号);修改xlsx后可用 plan import 导回。"""
    from ecoplan.db import session_scope
    from ecoplan.plans.exchange import export_plan
    from ecoplan.plans.store import plan_by_ref

    with session_scope(cli_engine()) as session:
        count = export_plan(session, plan_by_ref(session, plan), fmt, out)
    console.print(f"已导出{count}条措施到 {out}")


@plan_app.command("review")
@user_errors
def plan_review(
    accept: Annotated[
        list[str] | None, typer.Option("--accept", help="确认某措施的解析结果无误")
    ] = None,
    plan: PlanOption = None,
) -> None:
    """列出需要人工核对的措施(可信度低于阈值,或有待指定的相关区)。"""
    from ecoplan.config import get_settings
    from ecoplan.db import session_scope
    from ecoplan.plans.store import mark_reviewed, plan_by_ref, review_queue

    with session_scope(cli_engine()) as session:
        p = plan_by_ref(session, plan)
        if accept:
            count = mark_reviewed(session, p, accept, actor=cli_actor())
            console.print(f"已确认{count}条措施。")
        items = review_queue(session, p, get_settings().review_threshold)
        table = Table(title=f"待核对:{len(items)}条措施")
        for column in ("措施编号", "序号", "可信度", "原因"):
            table.add_column(column)
        for item in items:
            table.add_row(item.uid, item.doc_id, f"{item.confidence:.2f}", "\n".join(item.reasons))
        console.print(table)


@plan_app.command("edit")
@user_errors
def plan_edit(
    uid: Annotated[str, typer.Argument(help="措施编号,如 M004")],
    text: Annotated[str | None, typer.Option(help="工作措施全文")] = None,
    deadline: Annotated[str | None, typer.Option(help="完成时限,如 年底前")] = None,
    lead: Annotated[str | None, typer.Option(help="牵头部门,用“、”分隔")] = None,
    responsible: Annotated[str | None, typer.Option(help="主责单位,用“、”分隔")] = None,
    assisting: Annotated[str | None, typer.Option(help="协办单位,用“、”分隔")] = None,
    plan: PlanOption = None,
) -> None:
    """人工修改一条措施(形成新版本;再次导入文件时保留人工修改)。"""
    from ecoplan.db import session_scope
    from ecoplan.errors import ValidationError
    from ecoplan.plans.store import plan_by_ref, revise
    from ecoplan.plans.unitcells import split_unit_cell
    from ecoplan.units import service

    fields: dict[str, Any] = {
        k: v for k, v in (("text", text), ("deadline", deadline)) if v is not None
    }
    roles = {"lead": lead, "responsible": responsible, "assisting": assisting}
    if not fields and all(v is None for v in roles.values()):
        raise ValidationError("没有给出要修改的字段")
    with session_scope(cli_engine()) as session:
        directory = service.directory(session)
        for role, value in roles.items():
            if value is not None:  # unknown names are refused by revise()
                fields[role] = split_unit_cell(value, directory).names
        p = plan_by_ref(session, plan)
        revision = revise(
            session, p, {uid: fields}, actor=cli_actor(), kind="edit", directory=directory
        )
        console.print("没有变化" if revision is None else f"已保存为第{revision.number}版")


@plan_app.command("designate")
@user_errors
def plan_designate(
    uid: Annotated[str, typer.Argument(help="措施编号,如 M002")],
    units: Annotated[list[str], typer.Argument(help="指定的单位名称")],
    role: Annotated[str, typer.Option(help="responsible / lead / assisting")] = "responsible",
    plan: PlanOption = None,
) -> None:
    """牵头单位指定“相关区政府”等占位单位的具体单位。"""
    from ecoplan.db import session_scope
    from ecoplan.plans.designate import designate
    from ecoplan.plans.store import plan_by_ref
    from ecoplan.units import service

    with session_scope(cli_engine()) as session:
        p = plan_by_ref(session, plan)
        names = designate(
            session,
            p,
            uid,
            units,
            role=role,
            actor=cli_actor(),
            directory=service.directory(session),
        )
        console.print(f"{uid} 的{role}已指定为:{'、'.join(names)}")


# -- units ------------------------------------------------------------------------------------
@units_app.command("list")
@user_errors
def units_list() -> None:
    """列出单位名录。"""
    from ecoplan.db import session_scope
    from ecoplan.units import service

    with session_scope(cli_engine()) as session:
        service.sync_builtin(session, actor=cli_actor())
        table = Table(title="单位名录")
        for column in ("编码", "名称", "类型", "别名"):
            table.add_column(column)
        for unit in service.list_units(session):
            table.add_row(unit.code, unit.name, unit.kind, "、".join(a.alias for a in unit.aliases))
        console.print(table)


@units_app.command("add")
@user_errors
def units_add(
    name: Annotated[str, typer.Argument(help="单位简称,如 市民政局")],
    kind: Annotated[
        str, typer.Option(help="city_bureau / district_gov / econ_zone / other")
    ] = "city_bureau",
    code: Annotated[str | None, typer.Option(help="单位编码")] = None,
    full_name: Annotated[str | None, typer.Option(help="全称")] = None,
    alias: Annotated[list[str] | None, typer.Option(help="别名,可多次给出")] = None,
) -> None:
    """添加单位。"""
    from ecoplan.db import session_scope
    from ecoplan.units import service

    with session_scope(cli_engine()) as session:
        service.sync_builtin(session, actor=cli_actor())
        unit = service.add_unit(session, name=name, kind=kind, code=code, full_name=full_name,
                                aliases=tuple(alias or ()), actor=cli_actor())  # fmt: skip
        console.print(f"已添加单位 {unit.code} {unit.name}")


@units_app.command("alias")
@user_errors
def units_alias(
    unit: Annotated[str, typer.Argument(help="单位名称或编码")],
    alias: Annotated[str, typer.Argument(help="别名")],
) -> None:
    """为单位添加别名。"""
    from ecoplan.db import session_scope
    from ecoplan.units import service

    with session_scope(cli_engine()) as session:
        service.sync_builtin(session, actor=cli_actor())
        found = service.add_alias(session, unit, alias, actor=cli_actor())
        console.print(f"{found.name} 的别名:{'、'.join(a.alias for a in found.aliases)}")


@units_app.command("load")
@user_errors
def units_load(
    file: Annotated[Path, typer.Argument(help="CSV:code,name,full_name,kind,aliases")],
) -> None:
    """从CSV批量添加单位(有任何错误则一条也不导入)。"""
    from ecoplan.db import session_scope
    from ecoplan.units import service

    with session_scope(cli_engine()) as session:
        service.sync_builtin(session, actor=cli_actor())
        count = service.load_units_csv(session, file, actor=cli_actor())
        console.print(f"已导入{count}个单位")


@units_app.command("resolve")
@user_errors
def units_resolve(
    name: Annotated[str, typer.Argument(help="文件中写的单位名称或群组,如 各区政府")],
) -> None:
    """解释一个单位名称:具体单位、群组成员或待指定的占位。"""
    from ecoplan.db import session_scope
    from ecoplan.units import service

    with session_scope(cli_engine()) as session:
        service.sync_builtin(session, actor=cli_actor())
        resolution = service.directory(session).resolve(name)
        labels = {"unit": "单位", "group": "群组", "placeholder": "待指定", "unknown": "未知"}
        console.print(f"{resolution.written}:{labels[resolution.kind]}")
        for unit in resolution.units:
            console.print(f"  {unit.code} {unit.name}")


# -- demo -------------------------------------------------------------------------------------
@app.command("demo")
@user_errors
def demo(
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="加载后启动网页服务")] = True,
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
) -> None:
    """加载示例计划《生态保护2024年行动计划》和演示填报记录,然后启动网页服务。"""
    import os

    from ecoplan.config import get_settings
    from ecoplan.db import session_scope
    from ecoplan.demo import sample_plan_path
    from ecoplan.demo.biodiversity import load_demo_biodiversity
    from ecoplan.demo.cases import load_demo_cases
    from ecoplan.demo.creation import load_demo_creation
    from ecoplan.demo.ei import load_demo_ei
    from ecoplan.demo.gep import load_demo_gep
    from ecoplan.demo.greenview import load_demo_greenview
    from ecoplan.demo.history import DEMO_TODAY, load_history
    from ecoplan.demo.targets import load_demo_targets
    from ecoplan.plans.store import active_measures, current_document, review_queue

    # The sample plan is for 2024: the demo clock stands in mid-2024 so lights mean something.
    os.environ.setdefault("ECOPLAN_TODAY", DEMO_TODAY.isoformat())
    get_settings.cache_clear()
    with session_scope(cli_engine()) as session:
        result = import_plan_file(session, sample_plan_path())
        _print_import(result)
        plan = result.plan
        document = current_document(plan)
        counts = document.counts()
        queue = review_queue(session, plan, get_settings().review_threshold)
        _print_document_table(document)
        summary = Table(title="示例计划摘要")
        for column in ("章节", "重点任务", "工作措施", "量化目标", "待核对", "数据库"):
            summary.add_column(column)
        summary.add_row(str(counts["sections"]), str(counts["tasks"]), str(len(active_measures(session, plan))),
                        str(counts["targets"]), str(len(queue)), get_settings().effective_database_url)  # fmt: skip
        console.print(summary)
        logins = load_history(session, plan)
        ei_runs = load_demo_ei(session, get_settings().data_dir / "demo-geodata")
        gep_runs = load_demo_gep(session, get_settings().data_dir / "demo-gep")
        clue_count = load_demo_cases(session, get_settings().data_dir / "demo-cases")
        bio = load_demo_biodiversity(session, get_settings().data_dir / "demo-bio")
        targets = load_demo_targets(session, plan, get_settings().data_dir / "demo-targets")
        greenview = load_demo_greenview(session, get_settings().data_dir / "demo-greenview")
        creation = load_demo_creation(session)
    if ei_runs:
        console.print(
            f"已生成演示 EI 核算 {len(ei_runs)} 次(合成栅格 + 北京市真实区界)和生态用地变化线索。"
        )
    if gep_runs:
        console.print(f"已生成演示 GEP-R 核算 {len(gep_runs)} 次和生态涵养区补偿测算(合成数据)。")
    if clue_count:
        console.print(
            f"已生成演示问题线索 {clue_count} 条(合成红线、保护区与线索,含核查整改记录)。"
        )
    if bio:
        console.print(
            f"已生成演示生物多样性数据(合成):物种名录 {bio['taxa']} 种,调查 {bio['surveys']} 次"
            f"({bio['occurrences']} 条记录),外来入侵物种监测记录 {bio['invasive_records']} 条"
            f"(预警 {bio['alerts']} 条),种质资源 {bio['accessions']} 份,"
            f"密云水库监测站数据 {bio['station_values']} 个。"
        )
    if targets:
        console.print(
            f"已生成演示计划指标与项目台账(合成):指标 {targets['indicators']} 个,项目 {targets['projects']} 个"
            f"(阶段变更 {targets['stage_changes']} 次,现场照片 {targets['photos']} 张),台账汇总值 "
            f"{targets['ledger_values']} 个,森林覆盖率与湿地保护率计算值 {targets['computed']} 个,"
            f"填报值 {targets['reported']} 个。"
        )
    if creation:
        console.print(f"已生成演示示范创建数据 {creation} 条(合成,非实测;称号年度为虚构)。")
    if greenview:
        console.print(
            "已生成演示绿视率调查 2023、2024 年各 1 次(合成街景图片,42 个样点),并写入指标“建成区绿视率”。"
        )
    if logins is None:
        console.print(
            "演示账号和填报记录已存在(密码只在首次加载时显示;可用 ecoplan users passwd 重设)。"
        )
    else:
        table = Table(title="演示账号(密码只显示这一次)")
        for column in ("用户名", "密码", "角色", "单位"):
            table.add_column(column)
        for login in logins:
            table.add_row(login.username, login.password, login.role, login.unit)
        console.print(table)
    console.print(f"演示时钟:{get_settings().today}(ECOPLAN_TODAY)")
    if serve:
        _serve(host, port)


def _serve(host: str, port: int) -> None:
    import logging

    import uvicorn

    # ecoplan.* loggers write one JSON object per line (see web/app.py AccessLog)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("ecoplan")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    from ecoplan.web.app import create_app

    console.print(f"网页服务:http://{host}:{port}/  接口文档:http://{host}:{port}/api/docs")
    uvicorn.run(create_app(cli_engine()), host=host, port=port, log_level="info")


@app.command("serve")
@user_errors
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
) -> None:
    """启动网页服务和 REST 接口(/api/v1,OpenAPI 在 /openapi.json)。"""
    _serve(host, port)


@remind_app.command("run")
@user_errors
def remind_run(
    plan: PlanOption = None,
    today: Annotated[str | None, typer.Option(help="按此日期运行(YYYY-MM-DD),默认今天")] = None,
) -> None:
    """发送临近提醒、到期催办,对逾期事项生成督办单(重复运行不会重复发送)。"""
    import datetime as dt

    from ecoplan.config import today as clock
    from ecoplan.db import session_scope
    from ecoplan.plans.store import plan_by_ref
    from ecoplan.supervision.reminders import run_reminders

    day = dt.date.fromisoformat(today) if today else clock()
    with session_scope(cli_engine()) as session:
        run = run_reminders(session, plan_by_ref(session, plan), day, actor=cli_actor())
        console.print(f"{day}:新通知 {len(run.notifications)} 条,新督办单 {len(run.orders)} 张,"
                      f"解除督办单 {run.resolved} 张,发出邮件 {run.emailed} 封")  # fmt: skip


@app.command("cycle")
@user_errors
def cycle(
    frequency: Annotated[str, typer.Option(help="monthly(每月)或 quarterly(每季度)")] = "monthly",
    due_days: Annotated[int, typer.Option(help="周期结束后几天内报送")] = 5,
    remind_days: Annotated[int, typer.Option(help="报送截止前几天提醒")] = 3,
    close_remind_days: Annotated[int, typer.Option(help="完成时限前几天提醒")] = 30,
    plan: PlanOption = None,
) -> None:
    """设置计划的填报周期和提醒天数(已有填报记录后不能再改周期)。"""
    from ecoplan.db import session_scope
    from ecoplan.plans.store import plan_by_ref
    from ecoplan.supervision.periods import configure_cycle, periods

    with session_scope(cli_engine()) as session:
        p = plan_by_ref(session, plan)
        configure_cycle(session, p, frequency=frequency, due_days=due_days, remind_days=remind_days,
                        close_remind_days=close_remind_days, actor=cli_actor())  # fmt: skip
        rows = periods(session, p)
        console.print(f"{p.title}:{len(rows)} 个填报周期,"
                      f"首期 {rows[0].label} 截止 {rows[0].report_due}")  # fmt: skip


@users_app.command("add")
@user_errors
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="admin / coordinator / leader / unit")],
    unit: Annotated[str | None, typer.Option(help="单位代码(单位用户必填)")] = None,
    name: Annotated[str | None, typer.Option(help="显示名")] = None,
    email: Annotated[str | None, typer.Option(help="邮箱(接收提醒)")] = None,
    password: Annotated[str | None, typer.Option(help="不给出则随机生成并显示一次")] = None,
) -> None:
    """新建账号。"""
    import secrets

    from ecoplan.accounts.service import create_account
    from ecoplan.db import session_scope

    secret = password or secrets.token_urlsafe(12)
    with session_scope(cli_engine()) as session:
        create_account(session, username=username, password=secret, role=role, unit_code=unit,
                       display_name=name, email=email, actor=cli_actor())  # fmt: skip
    console.print(f"已创建 {username}" + ("" if password else f",初始密码:{secret}"))


@users_app.command("list")
@user_errors
def users_list() -> None:
    """列出账号。"""
    from ecoplan.accounts.service import list_accounts
    from ecoplan.db import session_scope

    table = Table()
    for column in ("用户名", "显示名", "角色", "单位", "启用"):
        table.add_column(column)
    with session_scope(cli_engine()) as session:
        for a in list_accounts(session):
            table.add_row(a.username, a.display_name, a.role, a.unit.name if a.unit else "",
                          "是" if a.active else "否")  # fmt: skip
    console.print(table)


@users_app.command("passwd")
@user_errors
def users_passwd(username: str) -> None:
    """为账号重设一个随机密码(显示一次),并使其所有登录会话失效。"""
    import secrets

    from ecoplan.accounts.service import account_by_username, set_password
    from ecoplan.db import session_scope

    secret = secrets.token_urlsafe(12)
    with session_scope(cli_engine()) as session:
        set_password(session, account_by_username(session, username), secret, actor=cli_actor())
    console.print(f"{username} 的新密码:{secret}")


def main() -> None:
    app()
