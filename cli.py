"""Command-line front end: ``zoning …`` (also ``python cli.py …``).

A thin layer: options are parsed here, the work is done by ``geodata``, ``zoning`` and ``maps``.
User mistakes (bad data, bad settings) end with a clear message and exit code 2, never a traceback.
"""
from __future__ import annotations

import functools
import logging
import sys
from importlib import metadata
from pathlib import Path

import click


def _version() -> str:
    try:
        return metadata.version("pingluo-zoning")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0.1.0+src"


def user_errors(func):
    """Turn data and settings errors into a message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from geodata.errors import DataError, format_problems
        from zoning.scenario import ScenarioError

        try:
            return func(*args, **kwargs)
        except DataError as exc:
            click.echo(format_problems(exc.problems), err=True)
            n = sum(p.severity == "error" for p in exc.problems)
            click.secho(f"输入数据有 {n} 处错误，请按“修改建议”更正后重试。", fg="red", err=True)
            sys.exit(2)
        except ScenarioError as exc:
            click.secho(f"情景设置有误（{exc.source}）：", fg="red", err=True)
            for p in exc.problems:
                click.echo(f"  - {p}", err=True)
            sys.exit(2)
        except FileNotFoundError as exc:
            click.secho(f"找不到文件或文件夹：{exc.filename or exc}", fg="red", err=True)
            sys.exit(2)

    return wrapper


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
@click.version_option(_version(), prog_name="zoning")
@click.option("-v", "--verbose", count=True, help="输出更多日志（-vv 为调试）。")
def main(verbose: int) -> None:
    """划片招生与班额规划工具（平罗县示例数据内置）。"""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


# --- foundation: validate -------------------------------------------------------------------


@main.command("validate", short_help="检查数据文件夹，列出全部问题。")
@data_dir_argument
@coords_option
@mapping_option
@user_errors
def validate_cmd(data_dir, coords, mapping):
    """检查数据文件夹（不给出时检查内置示例），一次列出全部问题；有错误时退出码非零。"""
    from geodata.validate import validate_folder
    from geodata.errors import format_problems, errors

    problems = validate_folder(data_dir, coords=coords, mapping=mapping)
    click.echo(format_problems(problems))
    n_err = len(errors(problems))
    n_warn = len(problems) - n_err
    click.echo(f"\n共 {n_err} 处错误，{n_warn} 处警告。")
    sys.exit(1 if n_err else 0)


# --- optimizer: plan, check-plan, project (zoning) ------------------------------------------
# (commands are added below this line)


# --- maps: map, publish, compare-map ---------------------------------------------------------
# (commands are added below this line)


# --- autumn check: check ---------------------------------------------------------------------
# (commands are added below this line)


# --- indicators and comparison: indicators, compare ------------------------------------------
# (commands are added below this line)


if __name__ == "__main__":
    main()
