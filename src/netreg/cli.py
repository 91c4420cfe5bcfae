"""Command line: parse arguments, call one library function, render, exit.

Heavy libraries (openpyxl, jinja2, pydantic models, phonenumbers, calamine) are imported
inside the commands, so ``netreg --help`` starts fast.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

# Plain click help: typer's rich help imports rich (+90 ms) and keeps English headings.
os.environ.setdefault("TYPER_USE_RICH", "0")
import typer  # noqa: E402

from . import __version__
from .i18n import install as _install_chinese

_install_chinese()

app = typer.Typer(
    name="netreg",
    help="网站、新媒体平台、工作群组及“网络大V”登记备案：下发空白登记表、校验回收的表格、汇总全校数据。\n\n"
         "流程：netreg template → 各单位填写 → netreg validate → netreg merge",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="配置文件 netreg.toml（默认：当前目录下的 netreg.toml，没有则用内置设置）", metavar="文件")]
UnitsOpt = Annotated[Optional[Path], typer.Option("--units", help="单位名单文件（每行一个单位名称）", metavar="文件")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="统计日期 YYYY-MM-DD（默认今天），用于判断“日期晚于今天”“网站长期未更新”", metavar="日期")]
RosterOpt = Annotated[Optional[Path], typer.Option("--roster", help="学生花名册（.xlsx 或 .csv，含“姓名”“手机号”列），用于发现绑定学生手机号的账号", metavar="文件")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def _setup(config_path: Path | None, units_path: Path | None):
    from .config import ConfigError, load_config, read_units_file

    try:
        config = load_config(config_path)
        units = read_units_file(units_path) if units_path else None
    except ConfigError as exc:
        _fail(str(exc))
    return config, units


def _as_of(text: str | None) -> date:
    if not text:
        return date.today()
    from .normalize import parse_date

    parsed = parse_date(text)
    if not parsed.ok or parsed.code:
        _fail(f"--as-of 的日期“{text}”无法识别，请写成 2025-11-25 这样的格式")
    return parsed.value


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"netreg {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", "-V", help="显示版本号并退出", callback=_version, is_eager=True)] = False,
) -> None:
    """网站、新媒体平台、工作群组及“网络大V”登记备案工具。"""


@app.command()
def template(
    units_file: UnitsOpt = None,
    unit: Annotated[Optional[list[str]], typer.Option("--unit", help="只为这个单位生成（可重复）", metavar="单位")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="输出文件夹", metavar="文件夹")] = Path("空白登记表"),
    config_path: ConfigOpt = None,
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的文件")] = False,
) -> None:
    """为每个单位生成一份空白登记表（附件1～5 和填表说明），发给各单位填写。

    示例：netreg template --units samples/units.txt -o 空白登记表
    """
    config, units = _setup(config_path, units_file)
    names = list(unit or units or config.units)
    if not names:
        _fail("没有单位名单：请用 --units 指定名单文件，或用 --unit 指定单位")
    from rich.progress import Progress
    from rich.table import Table

    from .template import write_templates

    console = _console()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("正在生成登记表…", total=len(names))
        try:
            written = write_templates(config, names, output, force=force,
                                      on_progress=lambda w: progress.advance(task))
        except OSError as exc:
            _fail(f"无法写入文件夹 {output}：{exc.strerror or exc}")
    table = Table(header_style="bold")
    table.add_column("单位")
    table.add_column("文件")
    table.add_column("结果")
    for w in written:
        table.add_row(w.unit, str(w.path), "已生成" if w.status == "written" else "已存在，未覆盖（加 --force 可覆盖）")
    console.print(table)
    done = sum(w.status == "written" for w in written)
    console.print(f"共 {len(written)} 个单位，生成 {done} 份登记表，保存在 {output}")


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="回收的登记表文件或文件夹（文件夹会递归查找 .xlsx）", metavar="路径...")],
    config_path: ConfigOpt = None,
    units_file: UnitsOpt = None,
    as_of: AsOfOpt = None,
    roster: RosterOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="输出格式：text（表格报告）或 json", metavar="格式")] = "text",
    annotate: Annotated[Optional[Path], typer.Option("--annotate", help="为每个单位生成带批注的修改意见表，保存到此文件夹", metavar="文件夹")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="警告也算作错误（退出码 1）")] = False,
) -> None:
    """校验各单位交回的登记表，逐条说明问题和修改方法。

    退出码：0 没有错误；1 有错误；2 用法错误或没有可读取的文件。

    示例：netreg validate 回收/ --as-of 2025-11-25 --annotate 修改意见/
    """
    if fmt not in ("text", "json"):
        _fail("--format 只能是 text 或 json")
    config, units = _setup(config_path, units_file)
    day = _as_of(as_of)
    if roster is not None and not roster.is_file():
        _fail(f"找不到学生花名册 {roster}")
    from .validate import validate_paths

    report = validate_paths(paths, config, units=units, as_of=day, roster=roster)
    if not report.files:
        if fmt == "json":
            _print_json(report)
        else:
            for issue in report.issues:  # e.g. a path that does not exist
                typer.echo(f"{issue.file}：{issue.message}", err=True)
        _fail("没有找到可以读取的登记表文件（.xlsx）", 2)
    if annotate is not None:
        from .annotate import write_annotated

        written = write_annotated(report, annotate, config=config)
        if fmt == "text":
            _console().print(f"已生成 {len(written)} 份修改意见表，保存在 {annotate}")
    if fmt == "json":
        _print_json(report)
    else:
        from .report import render_text

        render_text(report, _console())
    raise typer.Exit(report.exit_code(strict))


def _print_json(report) -> None:
    from .report import iter_json

    out = sys.stdout
    for chunk in iter_json(report):
        out.write(chunk)
    out.write("\n")
    out.flush()


@app.command()
def merge(
    paths: Annotated[list[Path], typer.Argument(help="回收的登记表文件或文件夹", metavar="路径...")],
    output: Annotated[Path, typer.Option("--output", "-o", help="汇总表保存位置（.xlsx）", metavar="文件")],
    config_path: ConfigOpt = None,
    units_file: UnitsOpt = None,
    as_of: AsOfOpt = None,
    roster: RosterOpt = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="同时生成网页报告（可离线打开、可打印）", metavar="文件")] = None,
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的汇总表/网页报告")] = False,
) -> None:
    """校验全部回收的登记表并生成全校汇总表（总览、附件1～5、问题清单），可选网页报告。

    退出码：0 没有错误；1 有错误；2 用法错误或没有可读取的文件。

    示例：netreg merge samples/returned -o 汇总.xlsx --html 汇总报告.html --as-of 2025-11-25
    """
    if output.suffix.lower() != ".xlsx":
        _fail("汇总表文件名须以 .xlsx 结尾，如 -o 汇总.xlsx")
    config, units = _setup(config_path, units_file)
    day = _as_of(as_of)
    if roster is not None and not roster.is_file():
        _fail(f"找不到学生花名册 {roster}")
    from .report import render_merge_overview
    from .summary import OutputExists, merge as write_summary
    from .validate import validate_paths

    console = _console()
    with console.status("正在读取和校验…"):
        report = validate_paths(paths, config, units=units, as_of=day, roster=roster)
    if not any(f.status == "ok" for f in report.files):
        for issue in report.issues:
            typer.echo(f"{issue.file}：{issue.message}", err=True)
        _fail("没有找到可以读取的登记表文件（.xlsx）", 2)
    try:
        result = write_summary(report, output, school=config.school, html=html, force=force, inputs=paths)
    except OutputExists as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"无法写入 {output}：{exc.strerror or exc}")
    render_merge_overview(result, console)
    raise typer.Exit(report.exit_code())


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="写入 netreg.toml 的文件夹", metavar="文件夹")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的 netreg.toml")] = False,
) -> None:
    """生成带注释的配置文件 netreg.toml（包含全部内置设置），供修改后使用。

    示例：netreg init 然后编辑 netreg.toml 中的学校名称、截止日期、单位名单等
    """
    from .config import write_default_config

    target = directory / "netreg.toml"
    if target.exists() and not force:
        _fail(f"{target} 已存在；如需覆盖请加 --force")
    try:
        write_default_config(target)
    except OSError as exc:
        _fail(f"无法写入 {target}：{exc.strerror or exc}")
    typer.echo(f"已生成配置文件 {target}；修改后，在同一文件夹运行 netreg 时会自动使用它。")


def _is(exc: BaseException, name: str) -> bool:
    # typer vendors click in recent versions (typer._click) and uses click in older ones:
    # match the exception classes by name rather than by import.
    return any(c.__name__ == name for c in type(exc).__mro__)


def main() -> None:
    """Console entry point: usage errors in Chinese, exit code 2, never a traceback."""
    from .i18n import usage_error

    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        typer.echo("已中断。", err=True)
        sys.exit(130)
    except Exception as exc:
        if _is(exc, "NoArgsIsHelpError"):  # bare `netreg`: show the help, no error
            typer.echo(exc.format_message())
            sys.exit(0)
        if _is(exc, "UsageError"):
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                typer.echo(ctx.get_usage(), err=True)
                typer.echo(f"运行 '{ctx.command_path} -h' 查看帮助。", err=True)
            typer.echo(f"错误：{usage_error(exc.format_message())}", err=True)
            sys.exit(2)
        if _is(exc, "Abort"):
            typer.echo("已中断。", err=True)
            sys.exit(130)
        if _is(exc, "ClickException"):
            typer.echo(f"错误：{exc.format_message()}", err=True)
            sys.exit(getattr(exc, "exit_code", 1))
        typer.echo(f"错误：程序内部出错（{type(exc).__name__}: {exc}）。请把这条信息和所用文件发给技术人员。", err=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
