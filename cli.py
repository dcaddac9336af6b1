"""Command-line front end: ``zoning …`` (also ``python cli.py …``).

A thin layer: options are parsed here, the work is done by the :mod:`pipelines` package (one
module per command).
Every command ends with one of these exit codes (README, "退出码"), with one message and never a
traceback:

0 all well; 1 a finding (violations, data problems, failed checks); 2 unusable input or settings
(bad data, bad scenario, unreadable proposal, bad option, an output that would replace an input);
3 the environment (cannot write: read-only, no permission, disk full); 4 an internal error.
"""
from __future__ import annotations

import errno
import functools
import logging
import os
import sys
import traceback
from pathlib import Path

import click

from pipelines import PlanError, tool_version
from pipelines.autumn import run_check, summary_rows
from pipelines.check_plan import check_plan
from pipelines.compare import write_comparison
from pipelines.edit import run_edit
from pipelines.enrollment_plan import csv_path_of, run_enrollment_plan
from pipelines.indicators import indicators_report
from pipelines.inputs import (OutputRefused, OutputUnwritable, cache_folder, guard_output, prepare_output_folder,
                              writable)
from pipelines.plan import run_plan
from pipelines.project import ledger_text, run_project
from pipelines.publish import MapOptionError, check_map_options, comparison_map, planner_map, publish_material
from pipelines.sweep import run_sweep_file
from pipelines.validate import run_validate
from pipelines.warn import parse_years, run_warn
from zoning.errors import DataError, format_problems
from zoning.scenario import ScenarioError


EXIT_OK, EXIT_FINDING, EXIT_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL = 0, 1, 2, 3, 4

#: errno -> (what happened, what to do), for errors of the environment (exit code 3)
ENVIRONMENT_REASONS = {
    errno.ENOSPC: ("磁盘空间已满", "清理磁盘空间后重试"),
    errno.EDQUOT: ("磁盘配额已用完", "清理磁盘空间或请管理员提高配额后重试"),
    errno.EROFS: ("所在位置是只读的", "换一个可写的位置（用 --out 指定）"),
    errno.EACCES: ("没有读写权限", "换一个有写入权限的位置（用 --out 指定），或请管理员开通权限"),
    errno.EPERM: ("操作不被允许", "换一个有写入权限的位置（用 --out 指定），或请管理员开通权限"),
    errno.ENOTDIR: ("路径中有一段是文件而不是文件夹", "检查路径，换一个输出位置"),
    errno.ENOENT: ("该位置不存在或不能在其中建立文件", "换一个普通的、可写的文件夹作为输出位置"),
}


def _fail(message: str, code: int):
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def _environment_message(exc: OSError) -> str:
    reason, fix = ENVIRONMENT_REASONS.get(exc.errno, (exc.strerror or str(exc), "检查磁盘与文件夹权限后重试"))
    where = exc.filename or ""
    cache = str(cache_folder())
    if where and str(where).startswith(cache):
        fix = "缓存文件夹不可写：设置环境变量 XDG_CACHE_HOME 指向一个可写的文件夹后重试"
    return f"无法写入或读取 {where}：{reason}。{fix}。" if where else f"系统错误：{reason}。{fix}。"


def exit_codes(func):
    """The one error handler of every command: a message and the exit code of its kind."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except DataError as exc:
            click.echo(format_problems(exc.problems), err=True)
            n = sum(p.severity == "error" for p in exc.problems)
            _fail(f"输入数据有 {n} 处错误，请按“修改建议”更正后重试。", EXIT_INPUT)
        except ScenarioError as exc:
            click.secho(f"情景设置有误（{exc.source}）：", fg="red", err=True)
            for p in exc.problems:
                click.echo(f"  - {p}", err=True)
            sys.exit(EXIT_INPUT)
        except OutputRefused as exc:
            _fail(str(exc), EXIT_INPUT)
        except PlanError as exc:
            _fail(str(exc), exc.exit_code)
        except OutputUnwritable as exc:
            _fail(_environment_message(exc), EXIT_ENVIRONMENT)
        except FileNotFoundError as exc:
            _fail(f"找不到文件或文件夹：{exc.filename or exc}", EXIT_INPUT)
        except BrokenPipeError:  # the reader of the output went away (``zoning … | head``): say nothing
            sys.stdout = open(os.devnull, "w")
            sys.exit(EXIT_ENVIRONMENT)
        except OSError as exc:
            _fail(_environment_message(exc), EXIT_ENVIRONMENT)
        except Exception as exc:  # a bug: say so in one line; -vv shows the traceback
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                traceback.print_exc()
            _fail(f"程序内部错误（{type(exc).__name__}：{exc}）。请用 zoning -vv 重新运行，把输出报告给维护者。",
                  EXIT_INTERNAL)

    return wrapper


def _guard(out, kind: str, data_dir=None, proposals=(), files=(), scenario=None, mapping=None,
           suffix: str | None = None) -> None:
    """Check an output location before any work (see geodata.outputs.check_output_target)."""
    guard_output(out, kind, data_dir, proposals=proposals, files=files, scenario_path=scenario,
                 mapping=mapping, suffix=suffix)


data_dir_argument = click.argument(
    "data_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
coords_option = click.option(
    "--coords",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default=None,
    help="输入经纬度的坐标系（网络地图取点多为 gcj02/bd09，将转换为 WGS84）。",
)
mapping_option = click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="列名对照文件（CSV：file,source,target），把本单位表头对应到标准列名。",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(tool_version(), prog_name="zoning")
@click.option("-v", "--verbose", count=True, help="输出更多日志（-vv 为调试）。")
def main(verbose: int) -> None:
    """划片招生与班额规划工具（平罗县示例数据内置）。"""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr,
                        force=True)


# --- foundation: validate -------------------------------------------------------------------


@main.command("validate", short_help="检查数据文件夹，列出全部问题。")
@data_dir_argument
@coords_option
@mapping_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="把全部问题写入 Excel 文件（如 问题清单.xlsx）：文件、Excel 行号、表头、问题、修改建议。")
@click.option("--all", "show_all", is_flag=True, help="在屏幕上逐条列出全部问题（默认按文件和问题归并）。")
@exit_codes
def validate_cmd(data_dir, coords, mapping, out, show_all):
    """检查数据文件夹（不给出时检查内置示例），一次列出全部问题；有错误时退出码非零。"""
    if out is not None:
        _guard(out, "file", data_dir, mapping=mapping, suffix=".xlsx")
    outcome = run_validate(data_dir, coords=coords, mapping=mapping, out=out)
    if outcome.is_sample:
        click.echo("检查内置示例数据（按平罗县概况虚构的示意数据，非官方数据）")
    click.echo(outcome.report() if show_all else outcome.grouped())
    if outcome.reconciliation:
        click.echo("\n人数核对：\n" + "\n".join(f"  {line}" for line in outcome.reconciliation))
    click.echo(f"\n共 {outcome.n_errors} 处错误，{outcome.n_warnings} 处警告，{outcome.n_notes} 条说明。")
    if outcome.written is not None:
        click.echo(f"全部问题已写入 {outcome.written}")
    sys.exit(EXIT_FINDING if outcome.n_errors else EXIT_OK)


# --- optimizer: plan, check-plan, project (zoning) ------------------------------------------
# (commands are added below this line)


def _parse_locks(values) -> dict:
    locks = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"'{v}' 应写成 单元代码=学校代码，例如 U0012=P09", param_hint="--lock")
        u, s = v.split("=", 1)
        locks[u.strip()] = s.strip()
    return locks


def _progress(text: str) -> None:
    click.echo(f"· {text}", err=True)


@main.command("plan", short_help="优化划片：求解整数规划并写出方案文件夹。")
@data_dir_argument
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="情景文件 scenario.toml（默认用数据文件夹中的）。")
@click.option("--level", type=click.Choice(["primary", "junior", "all"]), default=None, help="只划小学、初中或全部。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="方案文件夹（默认 proposals/sample 或 proposals/plan）。")
@click.option("--time-limit", type=float, default=None, help="求解时限（秒）。")
@click.option("--gap", type=float, default=None, help="可接受的最优间隙，例如 0.005 即 0.5%。")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), default=None, help="求解器（默认 highs）。")
@click.option("--lock", "locks", multiple=True, metavar="UNIT=SCHOOL", help="锁定单元到学校，可重复。")
@click.option("--second-change", "second_change_year", type=int, default=None,
              help="允许在该年份起第二次调整片区（另计惩罚）。")
@click.option("--no-contiguity", is_flag=True, default=False, help="不要求片区连片（仅供比较）。")
@click.option("--sweep", "sweep_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="参数扫描文件 sweep.toml：批量生成方案并比较。")
@click.option("--no-map", is_flag=True, default=False, help="不生成规划图 map.html。")
@click.option("--relax-caps", is_flag=True, default=False,
              help="距离上限改为软约束：每个单元最近的 3 所学校即使超出上限也可选（按超出的人·公里计罚分）。")
@coords_option
@mapping_option
@exit_codes
def plan_cmd(data_dir, scenario_path, level, out, time_limit, gap, solver, locks, second_change_year,
             no_contiguity, sweep_file, no_map, relax_caps, coords, mapping):
    """优化招生片区（不给出数据文件夹时用内置平罗示例，城关九小 2023 年开办）。"""
    overrides = {
        "time_limit": time_limit, "gap": gap, "solver": solver,
        "locks": _parse_locks(locks) or None,
        "levels": None if level in (None, "all") else (level,),
        "second_change_year": second_change_year,
        "contiguity": False if no_contiguity else None,
        "caps.primary.relax": True if relax_caps else None,
        "caps.junior.relax": True if relax_caps else None,
    }
    if sweep_file is not None:
        out = out or Path("proposals") / "sweep"
        _guard(out, "folder", data_dir, files=(sweep_file,), scenario=scenario_path, mapping=mapping)
        prepare_output_folder(out)
        paths = run_sweep_file(sweep_file, data_dir=data_dir, scenario_path=scenario_path,
                               out_dir=out, overrides=overrides,
                               coords=coords, mapping=mapping, write_map=not no_map)
        click.echo(f"扫描完成：{len(paths)} 个方案，比较表见 {out}")
        return
    outcome = run_plan(data_dir, out, scenario_path, coords, mapping, overrides,
                                progress=_progress, write_map=not no_map)
    click.echo(outcome.summary)
    click.echo(f"\n方案已写出：{outcome.out_dir}")
    sys.exit(EXIT_FINDING if outcome.metrics.get("violations") else EXIT_OK)


@main.command("check-plan", short_help="独立检查一个方案文件夹（可为手工修改过的）。")
@click.argument("proposal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="数据文件夹（默认取方案 run.json 中记录的）。")
@coords_option
@mapping_option
@exit_codes
def check_plan_cmd(proposal_dir, data_dir, coords, mapping):
    """检查方案：每个单元每个学段恰好一所学校、人数守恒、班额校额教室、连片、距离、锁定、障碍。

    按方案 run.json 记录的数据文件夹、坐标系和情景设置检查（--data、--coords、--mapping 可代替）；
    数据与方案生成时不同时列出改变的文件。退出码：0 全部通过；1 有未通过项；2 方案或数据无法使用。
    """
    outcome = check_plan(proposal_dir, data_dir, coords, mapping)
    click.echo(f"检查依据的数据：{outcome.data_source}")
    for w in outcome.warnings:
        click.secho(f"警告：{w}", fg="yellow", err=True)
    click.echo(outcome.report())
    for line in outcome.reconciliation:
        click.echo(line)
    failed = outcome.failed
    click.echo(f"\n{len(outcome.results) - len(failed)} 项通过，{len(failed)} 项未通过。")
    sys.exit(EXIT_FINDING if failed else EXIT_OK)


@main.command("project", short_help="逐年预测各校在校生与班级（台账）。")
@data_dir_argument
@click.option("--zones", "zones_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="按某个方案的片区预测（默认按现行片区）。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="台账 CSV 的写出位置（默认 ledger_current.csv 或方案文件夹中的 ledger_project.csv）。")
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@coords_option
@mapping_option
@exit_codes
def project_cmd(data_dir, zones_dir, out, scenario_path, coords, mapping):
    """逐年预测在校生、班级数、最大班额、大班额与超限情况，并写出台账 ledger.csv。"""
    if out is None:
        out = (zones_dir / "ledger_project.csv") if zones_dir else Path("ledger_current.csv")
    _guard(out, "file", data_dir, proposals=(zones_dir,), scenario=scenario_path, mapping=mapping, suffix=".csv")
    led, ds = run_project(data_dir, zones_dir, out, scenario_path, coords, mapping)
    if getattr(ds, "is_sample", False):
        click.echo("【示例数据：按平罗县概况虚构的示意数据，非官方数据】")
    click.echo(ledger_text(led))
    for note in led.attrs.get("notes", []):
        click.echo(f"注：{note}")
    over = led.attrs.get("plan_over_intake")
    if over is not None and len(over):
        click.echo("\n招生计划超出可招学位/班数（按本台账的招生上限）：")
        for r in over.itertuples():
            click.echo(f"  {r.name} {r.year} 年 {r.grade} 年级：计划 {r.planned_classes:.0f} 班 {r.planned_students:.0f} 人，"
                       f"可招 {r.intake_classes} 班 {r.intake_seats} 人")
    click.echo(f"\n台账已写出：{out}")


# --- maps: map, publish, compare-map ---------------------------------------------------------
# (commands are added below this line)

proposal_dir_argument = click.argument(
    "proposal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
tiles_option = click.option(
    "--tiles", type=click.Choice(["osm", "tianditu", "amap", "none"]), default="osm", show_default=True,
    help="底图：osm（OpenStreetMap）、tianditu（天地图，需 --tianditu-key）、amap（高德，GCJ-02，数据自动转换）、none（无底图）。",
)
tianditu_key_option = click.option(
    "--tianditu-key", default=None, envvar="TIANDITU_KEY", help="天地图密钥（也可用环境变量 TIANDITU_KEY）。"
)
asset_base_option = click.option(
    "--asset-base", default=None,
    help="Leaflet 脚本与样式的网址或路径前缀（内网自建服务器时使用）；为相对路径（如 assets）时把文件复制到网页旁；不给时直接内嵌到网页中。",
)


def _map_options_checked(tiles, tianditu_key):
    try:
        check_map_options(tiles, tianditu_key)
    except MapOptionError as exc:
        raise click.UsageError(str(exc)) from None


@main.command("map", short_help="生成方案的规划地图（map.html）。")
@proposal_dir_argument
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出的 HTML 文件，默认写到方案文件夹中的 map.html。")
@tiles_option
@tianditu_key_option
@asset_base_option
@exit_codes
def map_cmd(proposal_dir, out, tiles, tianditu_key, asset_base):
    """为方案文件夹 PROPOSAL_DIR 生成规划人员用的交互地图。"""
    _map_options_checked(tiles, tianditu_key)
    path = planner_map(proposal_dir, out=out, tiles=tiles, tianditu_key=tianditu_key, asset_base=asset_base)
    click.echo(f"已生成规划地图：{path}")


@main.command("publish", short_help="生成对外公布的材料：家长查询地图、片区划分表、片区调整情况、招生范围公告和片区图。")
@proposal_dir_argument
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="输出文件夹，默认为方案文件夹中的 publish/（整体写出，原有内容被替换）。")
@click.option("--tiles", type=click.Choice(["none", "tianditu", "osm", "amap"]), default="none", show_default=True,
              help="底图：none（默认，只用方案自身的片区、道路、水渠、乡镇界线，不联网、无需审图）、"
                   "tianditu（天地图，需 --tianditu-key，并在设置中填写审图号）、osm / amap（仅在明确需要时使用）。")
@tianditu_key_option
@asset_base_option
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="读取其中 [publish] 表的情景文件（scenario.toml）；默认用方案 run.json 记录的设置。")
@click.option("--county", default=None, help="县（区）名称，如 平罗县。")
@click.option("--school-year", default=None, help="招生年度，如 2024年秋季。")
@click.option("--office", default=None, help="发布单位，如 平罗县教育体育局。")
@click.option("--phone", default=None, help="咨询电话。")
@click.option("--notice", default=None, help="公告中的补充说明文字。")
@click.option("--map-review-no", default=None, help="审图号（用 --tiles tianditu 时必须填写，地图上注明；也可写在 [publish] 的 map_review_no）。")
@exit_codes
def publish_material_cmd(proposal_dir, out, tiles, tianditu_key, asset_base, scenario_path, county, school_year,
                         office, phone, notice, map_review_no):
    """为方案文件夹 PROPOSAL_DIR 生成对外公布的材料：parents.html（家长查询地图）、招生片区划分表（.xlsx/.csv）、
    片区调整情况（征求意见，.xlsx/.csv）、招生范围公告（A4 PDF 与 Word）、全县片区总图和每所学校的片区图。
    发布信息（县名、年度、发布单位、电话、审图号）取自方案 run.json 的 [publish]，可用 --scenario 或选项覆盖。
    不含任何户籍、儿童或人数信息。"""
    _map_options_checked(tiles, tianditu_key)
    try:
        written, missing, skipped = publish_material(
            proposal_dir, out=out, tiles=tiles, tianditu_key=tianditu_key, asset_base=asset_base,
            scenario_path=scenario_path, county=county, school_year=school_year, office=office, phone=phone,
            notice=notice, map_review_no=map_review_no)
    except MapOptionError as exc:
        raise click.UsageError(str(exc)) from None
    folder = next(iter(written.values())).parent if written else out
    click.echo(f"已在 {folder} 生成 {len(written)} 个文件：")
    for name in written:
        click.echo(f"  {name}")
    if missing:
        click.secho(f"提示：发布信息缺少{'、'.join(missing)}，页面上不会显示。请在 scenario.toml 的 [publish] 中填写，"
                    "或用 --county、--school-year、--office、--phone 给出。", fg="yellow", err=True)
    if skipped:
        click.secho(f"提示：{len(skipped)} 个小区/村没有有效边界（空几何），片区图上未画出，已在图下注明："
                    f"{'、'.join(skipped[:10])}{' 等' if len(skipped) > 10 else ''}。请在单元图层中补全边界后重新生成方案。",
                    fg="yellow", err=True)


@main.command("compare-map", short_help="生成两个方案的对比地图。")
@click.argument("a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出的 HTML 文件，默认为方案 A 文件夹中的 compare_<B>.html。")
@tiles_option
@tianditu_key_option
@asset_base_option
@exit_codes
def compare_map_cmd(a, b, out, tiles, tianditu_key, asset_base):
    """对比方案 A 与方案 B：两套片区可切换显示，标出划入不同学校的小区/村。"""
    _map_options_checked(tiles, tianditu_key)
    path = comparison_map(a, b, out, tiles=tiles, tianditu_key=tianditu_key, asset_base=asset_base)
    click.echo(f"已生成对比地图：{path}")


# --- autumn check: check ---------------------------------------------------------------------
# (commands are added below this line)


@main.command("check", short_help="秋季招生核查：学籍对照招生计划、片区与班额校额。")
@data_dir_argument
@click.option("--year", type=int, required=True, help="核查年度（秋季学期，如 2023）。")
@click.option("--zones", "zones_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="方案文件夹（含 assignments.csv）；不给出时按单元的现片区核对。")
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="招生计划文件（CSV/XLSX），代替数据文件夹中的 plan。")
@click.option("--roster", "roster_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="学籍文件（CSV/XLSX），代替数据文件夹中的 roster。")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="输出文件夹（默认 ./autumn_check_<年度>）；只有本工具写出的文件夹会被整体替换。")
@click.option("--town", "towns", multiple=True, default=("城关镇",), show_default=True,
              help="城区乡镇（就近入学率考核的范围），可重复给出。")
@click.option("--show-ids/--hide-ids", "show_ids", default=None,
              help="内部使用：报告中同时列出真实学籍号和化名编号（不得外传）；默认按 scenario.toml 的 [privacy] show_ids。")
@coords_option
@mapping_option
@exit_codes
def check_cmd(data_dir, year, zones_dir, plan_file, roster_file, out_dir, towns, show_ids, coords, mapping):
    """秋季招生核查：超计划、超班额、超校额、超范围招生、向超标学校转入、学籍数据问题。

    生成中文报告 report.html、各项 CSV 与一个 XLSX。退出码：0 全部符合；1 有违规或学籍数据问题；
    2 输入无法使用。
    """
    out_dir = out_dir or Path(f"autumn_check_{year}")
    _guard(out_dir, "folder", data_dir, proposals=(zones_dir,), files=(plan_file, roster_file), mapping=mapping)
    result, out = run_check(data_dir, year, zones_dir=zones_dir, plan_file=plan_file,
                            roster_file=roster_file, out_dir=out_dir, coords=coords,
                            mapping=mapping, town_townships=towns, show_ids=show_ids)
    for item, value in summary_rows(result):
        click.echo(f"{item}：{value}")
    click.echo(f"报告已写入：{out / 'report.html'}")
    sys.exit(result.exit_code)


# --- indicators and comparison: indicators, compare ------------------------------------------
# (commands are added below this line)


@main.command("indicators", short_help="优质均衡资源配置指标与差异系数报告。")
@data_dir_argument
@click.option("--zones", "zones", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="方案文件夹：按该方案台账（ledger.csv）的在校生计算。")
@click.option("--year", type=int, default=None, help="年份（默认：基准年；给出 --zones 时为台账各年）。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="报告文件夹（默认 indicators_<年份>）。")
@coords_option
@mapping_option
@exit_codes
def indicators_cmd(data_dir, zones, year, out, coords, mapping):
    """计算每所学校七项资源配置指标（6 项达标、其余≥85%）、音乐/美术教室和县域差异系数，写出 HTML 与 Excel 报告。"""
    if out is None:  # the default name (indicators_<year>) is known after reading; the folder writer
        writable(Path("indicators_report"))  # refuses a folder of the user's by that name
    else:
        _guard(out, "folder", data_dir, proposals=(zones,), mapping=mapping)
    outcome = indicators_report(data_dir, zones=zones, year=year, out=out, coords=coords, mapping=mapping)
    folder = outcome.folder
    if outcome.reconciliation:
        click.echo("人数核对（基年：读入 → 模型计入）：\n" + "\n".join(f"  {line}" for line in outcome.reconciliation))
    click.echo(f"指标报告已写出：{folder / 'indicators.html'}（Excel：{folder / 'indicators.xlsx'}）")


@main.command("compare", short_help="比较多个方案，写出比较表（HTML、Excel）。")
@click.argument("proposal_dirs", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("compare"),
              show_default=True, help="比较结果文件夹。")
@exit_codes
def compare_cmd(proposal_dirs, out):
    """比较方案文件夹（zoning plan 的输出）：逐年超限学校数、达标年份、最大班额、调整人数、上学距离、指标与差异系数。"""
    if len(proposal_dirs) < 2:
        _fail("请至少给出两个方案文件夹。", EXIT_INPUT)
    _guard(out, "folder", proposals=proposal_dirs)
    folder = write_comparison(list(proposal_dirs), out)
    click.echo(f"方案比较已写出：{folder / 'compare.html'}（Excel：{folder / 'compare.xlsx'}）")


@main.command("edit", short_help="在浏览器中手工调整方案，逐年台账随即更新。")
@click.argument("proposal_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="编辑器在本机（127.0.0.1）使用的端口；0 为任选一个空闲端口。")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器（只显示网址）。")
@exit_codes
def edit_command(proposal_dir: Path, port: int, no_browser: bool) -> None:
    """在浏览器中手工调整方案：点选小区/村改划学校，逐年台账与各项检查随即更新；另存为新方案（原方案不改动）。"""
    run_edit(proposal_dir, port=port, open_browser=not no_browser, announce=lambda t: click.echo(t, err=True))




# --- spring: enrollment-plan (招生计划), warn (学位预警) ----------------------------------------



def _years_option(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_years(value)
    except ValueError:
        raise click.BadParameter(f"“{value}”应写成 2023-2025、2023,2025 或 2023", param_hint="--years") from None


@main.command("enrollment-plan", short_help="由逐年预测生成招生计划（XLSX 供签批，CSV 供核查）。")
@data_dir_argument
@click.option("--zones", "zones_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="按某个方案的片区（默认按现行片区）。")
@click.option("--year", type=int, required=True, help="招生年份（须在预测范围内，如 2023）。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="招生计划 XLSX（默认 enrollment_plan_<年份>.xlsx）；同名 .csv 写在旁边。")
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@coords_option
@mapping_option
@exit_codes
def enrollment_plan_cmd(data_dir, zones_dir, year, out, scenario_path, coords, mapping):
    """为每所学校的起始年级（一年级、七年级）给出片区预计新生、可招学位和计划班数、人数（不超过学位），
    超出部分列出缺口和建议去向。XLSX 带标题和签批栏；CSV 为招生计划的标准列，可直接用于 zoning validate 与 zoning check --plan。"""
    out = out or Path(f"enrollment_plan_{year}.xlsx")
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("招生计划应写成 .xlsx 文件（同名 .csv 写在旁边）", param_hint="--out")
    _guard(out, "file", data_dir, proposals=(zones_dir,), scenario=scenario_path, mapping=mapping, suffix=".xlsx")
    _guard(csv_path_of(out), "file", data_dir, proposals=(zones_dir,), scenario=scenario_path, mapping=mapping,
           suffix=".csv")
    outcome = run_enrollment_plan(data_dir, zones_dir, year, out, scenario_path, coords, mapping)
    if outcome.is_sample:
        click.echo("【示例数据：按平罗县概况虚构的示意数据，非官方数据】")
    plan = outcome.plan
    click.echo(f"{year} 年招生计划：{plan['school_id'].nunique()} 所学校，计划 {int(plan['planned_classes'].sum())} 个班、"
               f"{int(plan['planned_students'].sum())} 人")
    for r in plan[plan["shortfall"] > 0].itertuples():
        click.echo(f"  {r.name} {r.grade} 年级：片区预计新生 {r.demand} 人，可招 {r.planned_students} 人，"
                   f"缺口 {r.shortfall} 人；{r.destination}")
    click.echo(f"已写出：{outcome.xlsx}（签批用）、{outcome.csv}（招生计划标准列）")


@main.command("warn", short_help="学位预警：逐校逐年的片区需求与可招学位（红/黄/绿）。")
@data_dir_argument
@click.option("--zones", "zones_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="方案文件夹：按方案片区预警，并与现行片区对照（默认按现行片区）。")
@click.option("--years", default=None, callback=_years_option,
              help="年份，如 2023-2025（默认：预测范围内的全部年份）。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("warnings_report"),
              show_default=True, help="输出文件夹（warnings.csv、warnings.xlsx、warnings.html）。")
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@coords_option
@mapping_option
@exit_codes
def warn_cmd(data_dir, zones_dir, years, out, scenario_path, coords, mapping):
    """学位预警（需求/学位达到红色阈值为红，达到黄色阈值为黄，阈值见 scenario.toml 的 [warnings]）。"""
    _guard(out, "folder", data_dir, proposals=(zones_dir,), scenario=scenario_path, mapping=mapping)
    outcome = run_warn(data_dir, zones_dir, years, out, scenario_path, coords, mapping)
    if outcome.is_sample:
        click.echo("【示例数据：按平罗县概况虚构的示意数据，非官方数据】")
    for year, grp in outcome.table.groupby("year"):
        reds = list(dict.fromkeys(grp.loc[grp["warning"] == "红", "name"]))  # a nine-year school once
        yellows = list(dict.fromkeys(grp.loc[grp["warning"] == "黄", "name"]))
        click.echo(f"{year} 年：红色 {len(reds)} 所" + (f"（{'、'.join(reds)}）" if reds else "")
                   + f"，黄色 {len(yellows)} 所" + (f"（{'、'.join(yellows)}）" if yellows else ""))
    click.echo(f"学位预警已写出：{outcome.out_dir / 'warnings.html'}（{outcome.out_dir / 'warnings.csv'}，"
               f"{outcome.out_dir / 'warnings.xlsx'}）")



if __name__ == "__main__":
    main()
