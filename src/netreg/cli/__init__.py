"""Command line: parse arguments, call one library function, render, exit.

Heavy libraries (openpyxl, jinja2, pydantic models, phonenumbers, calamine) are imported
inside the commands, so ``netreg --help`` starts fast.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Annotated

# Plain click help: typer's rich help imports rich (+90 ms) and keeps English headings.
os.environ.setdefault("TYPER_USE_RICH", "0")
import typer  # noqa: E402

from .. import __version__
from ..util.clickzh import install as _install_chinese
from . import diff, init, intake, ledger, merge, remind, serve, template, validate

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
    options_metavar="[选项]",
    subcommand_metavar="命令 [参数]...",
)



def command(fn):
    """Register ``fn`` as a command. This is the CLI's one boundary: a ``NetregError`` raised
    below (bad settings, an output that may not be replaced…) is printed as its Chinese line
    and ends the command with exit code 2; so is a full disk, wherever it was met."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        from ..errors import NetregError
        from ..util.oserror import disk_full, quiet_when_full

        quiet_when_full()  # a half-written zip freed later says nothing more than the line below
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            full = None if type(exc).__module__.startswith(("click", "typer")) else disk_full(exc)
            if not full and not isinstance(exc, NetregError):
                raise
            typer.echo(f"错误：{full or exc}", err=True)
            raise typer.Exit(2) from None

    return app.command(fn.__name__, options_metavar="[选项]")(run)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"netreg {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", "-V", help="显示版本号并退出", callback=_version, is_eager=True)] = False,
) -> None:
    """网站、新媒体平台、工作群组及“网络大V”登记备案工具。"""


for _cmd in (template.template, validate.validate, merge.merge, init.init, intake.intake, ledger.status,
             ledger.history, ledger.paper, ledger.exclude, ledger.include, diff.diff, remind.remind, serve.serve):
    command(_cmd)


def _is(exc: BaseException, name: str) -> bool:
    # typer vendors click in recent versions (typer._click) and uses click in older ones:
    # match the exception classes by name rather than by import.
    return any(c.__name__ == name for c in type(exc).__mro__)


def main() -> None:
    """Console entry point: usage errors in Chinese, exit code 2, never a traceback."""
    from ..util.clickzh import usage_error
    from ..util.startup import without_numpy

    without_numpy()
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
        from ..util.debug import HINT, note

        note(exc)
        typer.echo(f"错误：程序内部出错。请把所用的命令和文件发给技术人员（{HINT}）。", err=True)
        sys.exit(3)
    if code == 130:  # typer turns Ctrl-C into Exit(130), which standalone_mode=False returns silently
        typer.echo("已中断。", err=True)
    sys.exit(code if isinstance(code, int) else 0)
