"""``ecoplan greenview …``: 绿视率 — classify images, compute a survey, lay out sample points,
compare two years (measure 14.1). ``store`` and ``verdict`` keep surveys in the database and
record their values in the indicator registry; the other commands write CSV / GeoJSON only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ecoplan.clikit import cli_actor, cli_engine, console, err_console, user_errors
from ecoplan.errors import ValidationError

if TYPE_CHECKING:
    from ecoplan.greenview.classify import MaskBackend
    from ecoplan.greenview.compare import Comparison
    from ecoplan.greenview.method import GreenviewMethod, VerdictSpec

greenview_app = typer.Typer(
    help="绿视率: 街景图片绿色像素识别、样点布设、分区统计、年度“稳中有升”判定",
    no_args_is_help=True,
)

MethodOption = Annotated[
    Path | None, typer.Option("--method", help="方法文件(TOML),默认内置 greenview.toml")
]
ClassifierOption = Annotated[
    str | None, typer.Option("--classifier", help="分类器: treepedia(默认)/ exg_exr / hsv")
]
ModelOption = Annotated[
    Path | None, typer.Option("--model", help="ONNX 分割模型(需自行安装 onnxruntime)")
]
WorkersOption = Annotated[int | None, typer.Option("--workers", help="并行数,默认每个 CPU 一个")]


def _backend(
    method: GreenviewMethod, classifier: str | None, model: Path | None
) -> tuple[MaskBackend, str]:
    from ecoplan.greenview.classify import get_backend

    if model is not None:
        if classifier:
            raise ValidationError("--model 与 --classifier 只能给出一个")
        from ecoplan.greenview.onnx_backend import onnx_backend

        return onnx_backend(model, method), f"onnx:{model.name}"
    return get_backend(method, classifier), classifier or method.default_classifier


def _months(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        months = [int(p) for p in text.replace("，", ",").split(",") if p.strip()]
    except ValueError:
        raise ValidationError(f"月份“{text}”应写作逗号分隔的数字,如 5,6,7,8,9") from None
    if not months or any(m < 1 or m > 12 for m in months):
        raise ValidationError(f"月份“{text}”应为 1–12")
    return months


@greenview_app.command("classify")
@user_errors
def gv_classify(
    images: Annotated[list[Path], typer.Argument(help="图片文件(JPEG / PNG)")],
    classifier: ClassifierOption = None,
    model: ModelOption = None,
    method: MethodOption = None,
    workers: WorkersOption = None,
) -> None:
    """识别图片中的绿色植被像素,输出每张图片的绿视率(%)。"""
    from ecoplan.greenview.batch import FolderStore, classify_batch, raise_errors
    from ecoplan.greenview.method import load_method

    m = load_method(method)
    backend, name = _backend(m, classifier, model)
    names = [str(p) for p in images]
    outcomes = classify_batch(names, FolderStore(None), backend, m.image, workers=workers)
    raise_errors(outcomes, "图片")
    table = Table(title=f"绿视率({name},{m.key})")
    for column in ("图片", "尺寸", "绿色像素", "绿视率(%)"):
        table.add_column(column)
    for o in outcomes:
        table.add_row(
            o.name, f"{o.width}×{o.height}", f"{o.green_pixels:,}", f"{o.fraction * 100:.2f}"
        )
    console.print(table)


@greenview_app.command("survey")
@user_errors
def gv_survey(
    manifest: Annotated[
        Path,
        typer.Argument(help="图片清单 CSV/XLSX(point_id, lon, lat, heading, pitch, date, image)"),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="样点结果 CSV;另写 *.images.csv 与 *.districts.csv")
    ],
    images: Annotated[
        Path | None, typer.Option("--images", help="图片所在文件夹或 zip,默认清单所在文件夹")
    ] = None,
    months: Annotated[
        str | None, typer.Option("--months", help="绿季月份,如 5,6,7,8,9(默认取方法文件)")
    ] = None,
    classifier: ClassifierOption = None,
    model: ModelOption = None,
    method: MethodOption = None,
    workers: WorkersOption = None,
    executor: Annotated[str | None, typer.Option("--executor", help="thread 或 process")] = None,
) -> None:
    """计算一次街景调查:每张图片的绿色比例、每个样点的绿视率、各区与全市的均值和中位数。"""
    from rich.progress import Progress

    from ecoplan.greenview.method import load_method
    from ecoplan.greenview.survey import run_survey

    if executor not in (None, "thread", "process"):
        raise ValidationError("--executor 只能是 thread 或 process")
    m = load_method(method)
    backend, name = _backend(m, classifier, model)
    # no refresh thread: the bar is redrawn from the callback, so worker processes can fork
    with Progress(console=err_console, transient=True, auto_refresh=False) as bar:
        task = bar.add_task("识别图片", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            bar.refresh()

        result = run_survey(
            manifest, m, images=images, classifier=None, backend=backend, months=_months(months),
            workers=workers, executor=executor,  # type: ignore[arg-type]
            progress=advance, backend_name=name,
        )  # fmt: skip
    stem = out.with_suffix("")
    images_out, districts_out = Path(f"{stem}.images.csv"), Path(f"{stem}.districts.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    tag = {"method": result.method, "classifier": name}
    result.points.assign(**tag).to_csv(out, index=False, encoding="utf-8-sig")
    result.images.assign(**tag).to_csv(images_out, index=False, encoding="utf-8-sig")
    result.districts.assign(**tag).to_csv(districts_out, index=False, encoding="utf-8-sig")
    table = Table(title=f"各区绿视率(%)— {name},{result.method}")
    for column in ("年份", "区", "样点数", "均值", "中位数", "不完整样点"):
        table.add_column(column)
    for r in result.districts.itertuples():
        table.add_row(str(r.year), r.district, str(r.n_points), f"{r.mean_gvi:.2f}",
                      f"{r.median_gvi:.2f}", str(r.n_incomplete))  # fmt: skip
    console.print(table)
    console.print(
        f"图片 {len(result.images)} 张(绿季外 {result.out_of_season} 张未计入),"
        f"样点 {len(result.points)} 个;已写出 {out}、{images_out}、{districts_out}"
    )
    if result.incomplete:
        console.print(f"图片不足 {m.point.min_images} 张或缺方位角的样点 {len(result.incomplete)} 个:"
                      + "、".join(result.incomplete[:20]) + (" …" if len(result.incomplete) > 20 else ""))  # fmt: skip
    if result.outside:
        console.print(f"不在北京市任一区内的样点 {len(result.outside)} 个(未计入分区统计):"
                      + "、".join(result.outside[:20]) + (" …" if len(result.outside) > 20 else ""))  # fmt: skip


@greenview_app.command("points")
@user_errors
def gv_points(
    roads: Annotated[Path, typer.Argument(help="道路线图层(GeoJSON / shapefile / GeoPackage)")],
    builtup: Annotated[Path, typer.Argument(help="建成区面图层")],
    out: Annotated[Path, typer.Option("--out", help="输出样点(.geojson / .gpkg / .csv)")],
    spacing: Annotated[
        float | None, typer.Option("--spacing", help="沿路点间距(米),默认取方法文件")
    ] = None,
    min_distance: Annotated[
        float | None, typer.Option("--min-distance", help="样点最小间距(米)")
    ] = None,
    roads_crs: Annotated[
        str | None,
        typer.Option("--roads-crs", help="道路图层坐标系(文件未声明时),如 EPSG:4326 / gcj02"),
    ] = None,
    builtup_crs: Annotated[
        str | None, typer.Option("--builtup-crs", help="建成区图层坐标系(文件未声明时)")
    ] = None,
    template: Annotated[
        Path | None, typer.Option("--template", help="另写一份待填写的图片清单 CSV")
    ] = None,
    method: MethodOption = None,
) -> None:
    """沿建成区内道路每隔固定距离布设绿视率调查样点(编号每年不变)。"""
    from ecoplan.greenview.method import load_method
    from ecoplan.greenview.points import manifest_template, read_layer, sample_points

    m = load_method(method)
    points = sample_points(read_layer(roads, "道路图层", roads_crs), read_layer(builtup, "建成区图层", builtup_crs),
                           m.sampling, spacing_m=spacing, min_distance_m=min_distance)  # fmt: skip
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        points.drop(columns="geometry").to_csv(out, index=False, encoding="utf-8-sig")
    elif suffix in (".geojson", ".json", ".gpkg"):
        points.to_file(out, driver="GPKG" if suffix == ".gpkg" else "GeoJSON")
    else:
        raise ValidationError(f"{out.name}: 输出格式只支持 .geojson / .gpkg / .csv")
    console.print(
        f"已布设 {len(points)} 个样点(间距 {spacing or m.sampling.spacing_m:g} 米),写出 {out}"
    )
    if template is not None:
        manifest_template(points, m).to_csv(template, index=False, encoding="utf-8-sig")
        console.print(f"已写出图片清单模板 {template}(每个样点 {len(m.point.headings)} 个方位角)")


@greenview_app.command("compare")
@user_errors
def gv_compare(
    first: Annotated[Path, typer.Argument(help="前一年的样点结果 CSV")],
    second: Annotated[Path, typer.Argument(help="后一年的样点结果 CSV")],
    tolerance: Annotated[
        float | None, typer.Option("--tolerance", help="稳定容差(百分点),默认取方法文件")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="把全市和各区的判定写入 CSV")] = None,
    method: MethodOption = None,
) -> None:
    """比较两个年份同一批样点的绿视率,判定是否“稳中有升”。"""
    from ecoplan.greenview.compare import compare_points, read_points_csv
    from ecoplan.greenview.method import load_method

    spec = load_method(method).verdict
    if tolerance is not None:
        if tolerance < 0:
            raise ValidationError("--tolerance 不能为负")
        spec = spec.model_copy(update={"tolerance_pp": tolerance})
    result = compare_points(
        read_points_csv(first), read_points_csv(second), spec, (first.name, second.name)
    )
    _print_verdict(result, spec, out)


def _verdict_table(result: Comparison, tolerance: float, confidence: float) -> Table:
    table = Table(
        title=f"绿视率 {result.year_a} → {result.year_b}(同一批样点,容差 ±{tolerance:g} 个百分点)"
    )
    for column in ("区域", "配对样点", f"{result.year_a} 均值", f"{result.year_b} 均值", "平均变化",
                   f"{confidence:.0%} 区间", "判定"):  # fmt: skip
        table.add_column(column)
    for v in [result.city, *result.districts]:
        table.add_row(v.district, str(v.n_pairs), f"{v.mean_a:.2f}", f"{v.mean_b:.2f}", f"{v.mean_change:+.2f}",
                      f"[{v.ci_low:+.2f}, {v.ci_high:+.2f}]", v.label)  # fmt: skip
    return table


def _print_verdict(result: Comparison, spec: VerdictSpec, out: Path | None) -> None:
    """The verdict table, the points left out of the pairing, 稳中有升 yes/no and the CSV."""
    console.print(_verdict_table(result, spec.tolerance_pp, spec.confidence))
    if result.only_a or result.only_b:
        console.print(f"只在 {result.year_a} 年调查的样点 {len(result.only_a)} 个、只在 {result.year_b} 年调查的 "
                      f"{len(result.only_b)} 个,未参与比较。")  # fmt: skip
    verdict = "是" if result.steady_rise else "否"
    console.print(
        f"稳中有升: {verdict}"
        + ("" if result.steady_rise else "(" + ";".join(result.reasons) + ")")
    )
    if out is not None:
        result.table().to_csv(out, index=False, encoding="utf-8-sig")
        console.print(f"已写出 {out}")


@greenview_app.command("store")
@user_errors
def gv_store(
    manifest: Annotated[Path, typer.Argument(help="图片清单 CSV/XLSX")],
    year: Annotated[int, typer.Option("--year", help="调查年度(清单中图片须拍摄于该年)")],
    title: Annotated[str, typer.Option("--title", help="调查名称")],
    images: Annotated[
        Path | None, typer.Option("--images", help="图片所在文件夹或 zip,默认清单所在文件夹")
    ] = None,
    classifier: ClassifierOption = None,
    method: MethodOption = None,
    workers: WorkersOption = None,
    note: Annotated[str, typer.Option("--note", help="说明")] = "",
) -> None:
    """计算一次街景调查并登记入库:样点、各区与全市绿视率写入指标“建成区绿视率”(措施 14.1)。"""
    from ecoplan.db import session_scope
    from ecoplan.greenview.method import load_method
    from ecoplan.greenview.store import district_table, store_survey
    from ecoplan.greenview.survey import run_survey
    from ecoplan.units.service import sync_builtin

    m = load_method(method)
    result = run_survey(manifest, m, images=images, classifier=classifier, workers=workers)
    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())  # district codes of the values must be known
        survey = store_survey(session, result, year=year, title=title, actor=cli_actor(),
                              method=m, notes=note)  # fmt: skip
        table = Table(title=f"{year} 年绿视率(%)— 调查“{survey.title}”(编号 {survey.id})")
        for column in ("区", "样点数", "均值", "中位数", "不完整样点"):
            table.add_column(column)
        for r in district_table(session, year, m).itertuples():
            table.add_row(r.district, str(r.n_points), f"{r.mean_gvi:.2f}", f"{r.median_gvi:.2f}",
                          str(r.n_incomplete))  # fmt: skip
        console.print(table)
        console.print(f"已登记: 图片 {survey.images} 张,样点 {survey.points} 个"
                      f"(不完整 {survey.incomplete} 个,区外 {survey.outside} 个)")  # fmt: skip
        from ecoplan.indicators.registry import for_kind

        if not any(for_kind(session, "green_view", y) for y in (year, year + 1)):
            console.print(f"注意: 尚无 {year} 或 {year + 1} 年的“建成区绿视率”指标,数值未写入指标;"
                          "用 ecoplan targets sync 生成指标后,ecoplan greenview verdict 会补写。")  # fmt: skip


@greenview_app.command("verdict")
@user_errors
def gv_verdict(
    year: Annotated[int, typer.Option("--year", help="判定年度(与上一年比较)")],
    out: Annotated[Path | None, typer.Option("--out", help="把全市和各区的判定写入 CSV")] = None,
) -> None:
    """按已登记的调查,比较本年与上年同一批样点的绿视率,判定是否“稳中有升”。"""
    from ecoplan.db import session_scope
    from ecoplan.greenview.method import load_method
    from ecoplan.greenview.store import compare_years, register_year
    from ecoplan.units.service import sync_builtin

    spec = load_method().verdict
    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        for y in (year - 1, year):  # values of surveys stored before the indicators existed
            register_year(session, y, actor=cli_actor())
        result = compare_years(session, year - 1, year)
    _print_verdict(result, spec, out)
