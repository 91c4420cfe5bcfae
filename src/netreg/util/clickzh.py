"""Chinese for the strings click and typer print themselves (help headings, usage errors).

click and typer call ``gettext.gettext`` through a module-level ``_``; replacing that name in
their modules translates them without shipping .mo files.
"""

from __future__ import annotations

import sys

ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "Error": "错误",
    "Error: {message}": "错误：{message}",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Missing argument": "缺少参数",
    "Missing argument '{param_hint}'.": "缺少参数 {param_hint}。",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有这个命令：{name!r}。",
    "No such option {name!r}.": "没有这个选项：{name!r}。",
    "No such option: {name}": "没有这个选项：{name}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不需要值。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "[default: {}]": "[默认：{}]",
    "default: {default}": "默认：{default}",
    "[required]": "[必填]",
    "required": "必填",
    "Aborted!": "已中止！",
    "Aborted.": "已中止。",
    "integer": "整数",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "Option '{name}' requires an argument.": "选项 '{name}' 需要一个值。",
    "Option '{name}' requires {nargs} arguments.": "选项 '{name}' 需要 {nargs} 个值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "您是不是想用 {possibility}？",
    "(Possible options: {possibilities})": "（可能的选项：{possibilities}）",
}


def gettext(message: str) -> str:
    return ZH.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return ZH.get(singular if n == 1 else plural, singular if n == 1 else plural)


USAGE_ERRORS = [  # (English pattern of a usage error, Chinese replacement)
    (r"Missing argument '(.+)'\.", r"缺少参数 \1。"),
    (r"Missing option '(.+)'\.", r"缺少选项 \1。"),
    (r"No such option: (\S+)(?: Did you mean (\S+)\?)?", r"没有这个选项：\1"),
    (r"No such command '(.+)'\.", r"没有这个命令：\1"),
    (r"Got unexpected extra arguments? \((.+)\)", r"多余的参数：\1"),
    (r"Option '(.+)' requires an argument\.", r"选项 \1 需要一个值。"),
    (r"Invalid value for '?(.+?)'?: (.+)", r"\1 的值无效：\2"),
    (r"Missing command\.", "缺少命令。"),
]


def usage_error(message: str) -> str:
    import re

    message, _, hint = message.strip().replace("。.", "。").partition(" Did you mean ")
    message = message.rstrip(".") + "." if message.endswith(".") else message
    for pattern, repl in USAGE_ERRORS:
        if re.fullmatch(pattern, message, flags=re.S):
            message = re.sub(pattern, repl, message, flags=re.S)
            break
    if hint:
        message += f"（您是不是想用 {hint.rstrip('?')}？）"
    return message


def install() -> None:
    """Translate click/typer's own strings. typer vendors click (typer._click) with plain
    English strings, so the few that reach users are patched at their source."""
    import gettext as _gettext

    try:
        from typer._click import core, formatting  # recent typer vendors click
    except ImportError:  # older typer uses click itself
        from click import core, formatting

    for name, module in list(sys.modules.items()):
        if name.startswith(("click", "typer")):
            if getattr(module, "_", None) is _gettext.gettext:
                module._ = gettext
            if getattr(module, "ngettext", None) is _gettext.ngettext:
                module.ngettext = ngettext

    write_usage = formatting.HelpFormatter.write_usage

    def chinese_usage(self, prog, args="", prefix=None):
        return write_usage(self, prog, args, "用法：" if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = chinese_usage
    try:  # typer prints an argument's Python type beside its name (路径 <list[Path]>): the name says it
        from typer.core import TyperArgument

        TyperArgument.display_type_rich = lambda self, ctx: None
    except (ImportError, AttributeError):
        pass
    get_help_option = core.Command.get_help_option

    def chinese_help_option(self, ctx):
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = "显示本帮助并退出"
        return option

    core.Command.get_help_option = chinese_help_option
