"""``ecoplan gep …``: run a GEP-R accounting, list, show, compare runs, allocate compensation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecoplan.clikit import cli_actor, cli_engine, console, user_errors

gep_app = typer.Typer(
    help="生态系统调节服务价值 GEP-R: 核算、比较、生态补偿测算", no_args_is_help=True
)
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="dask 集群地址 tcp://host:8786")
]


@gep_app.command("run")
@user_errors
def gep_run(
    config: Annotated[Path, typer.Argument(help="核算配置 .toml")],
    scheduler: SchedulerOption = None,
) -> None:
    """按配置核算 GEP-R(逐像元实物量写为 COG，按区域汇总并估值)，保存为一次核算。"""
    from ecoplan.accounting.gep.config import load_config
    from ecoplan.accounting.gep.pipeline import account, load_layers
    from ecoplan.accounting.gep.runs import store_run
    from ecoplan.db import session_scope

    parsed = load_config(config)
    result = account(parsed, layers=load_layers(parsed), scheduler=scheduler)
    with session_scope(cli_engine()) as session:
        run = store_run(session, result, title=parsed.title, actor=cli_actor(), is_demo=parsed.demo)
        console.print(f"已保存第 {run.id} 次 GEP-R 核算: {run.title}({len(run.results)} 行)")
        for warning in run.warnings:
            console.print(f"  提示: {warning}")
        for r in run.results:
            if r.level == "city":
                flag = "" if r.verified else " *"
                console.print(
                    f"  {r.service_name}: {r.quantity:.4g} {r.unit}，{r.value_yuan / 1e8:.2f} 亿元{flag}"
                )
        console.print("  * 使用了未与标准原文核对的参数或价格")


@gep_app.command("runs")
@user_errors
def gep_runs() -> None:
    """列出已保存的 GEP-R 核算。"""
    from ecoplan.accounting.gep.runs import list_runs
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        for run in list_runs(session):
            demo = "(演示)" if run.is_demo else ""
            console.print(
                f"{run.id}\t{run.year}\t{run.parameters_key}\t{run.prices_key}\t{run.title}{demo}"
            )


@gep_app.command("show")
@user_errors
def gep_show(
    run_id: int,
    fmt: Annotated[str, typer.Option("--format", help="json | csv | xlsx")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件(xlsx 必须给出)")] = None,
) -> None:
    """导出一次核算的结果表(每个区域、每项服务一行)。"""
    from ecoplan.accounting.gep.output import write
    from ecoplan.accounting.gep.runs import get_run
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        text = write(get_run(session, run_id), fmt, out)
    if text is not None:
        typer.echo(text)


@gep_app.command("compare")
@user_errors
def gep_compare(
    before: int,
    after: int,
    level: Annotated[str, typer.Option("--level", help="city | district | …")] = "city",
) -> None:
    """比较两次核算：价值变化拆分为实物量变化和价格变化两部分。"""
    from ecoplan.accounting.gep.runs import compare, get_run
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        changes = compare(get_run(session, before), get_run(session, after))
    console.print("区域\t服务\t前(亿元)\t后(亿元)\t变化\t其中实物量\t其中价格")
    for c in changes:
        if c.level == level:
            console.print(
                f"{c.region_name}\t{c.service_name}\t{c.value_before / 1e8:.3f}\t{c.value_after / 1e8:.3f}"
                f"\t{c.delta / 1e8:+.3f}\t{c.quantity_part / 1e8:+.3f}\t{c.price_part / 1e8:+.3f}"
            )


@gep_app.command("compensate")
@user_errors
def gep_compensate(
    config: Annotated[Path, typer.Argument(help="补偿测算配置 .toml")],
    docx: Annotated[Path | None, typer.Option("--docx", help="说明报告 docx 输出路径")] = None,
) -> None:
    """按配置把补偿资金分配到生态涵养区各区，保存并输出每区的计算说明。"""
    from ecoplan.accounting.gep.compensation import load_config, report_docx, store
    from ecoplan.db import session_scope

    parsed = load_config(config)
    with session_scope(cli_engine()) as session:
        record = store(session, parsed, actor=cli_actor())
        console.print(f"已保存第 {record.id} 次补偿测算: {record.title}")
        for r in record.allocation:
            console.print(
                f"  {r['name']}: 得分 {r['score']:.4f}，分配 {r['allocation_yuan'] / 1e4:.1f} 万元 {r['limited']}"
            )
        if docx is not None:
            docx.write_bytes(report_docx(record))
            console.print(f"  说明报告: {docx}")
