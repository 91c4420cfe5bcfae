"""The layout's promises (docs/architecture.md): no import cycles, a cheap public API, every
message parameter declared and given, no form singled out by number outside model/forms,
a thin CLI."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "netreg"


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """netreg modules imported by ``path``, anywhere in it (imports inside functions count)."""
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "netreg"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "netreg":
                target = node.module
            else:
                continue
            for alias in node.names:  # from pkg import submodule
                sub = f"{target}.{alias.name}"
                found.add(sub if (SRC.parent / sub.replace(".", "/")).with_suffix(".py").exists()
                          or (SRC.parent / sub.replace(".", "/") / "__init__.py").exists() else target)
    return found - {me}


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in SRC.rglob("*.py")}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_import_cycles_among_netreg_modules():
    graph = _graph()
    assert len(graph) > 30
    assert find_cycles(graph) == []


def test_the_cycle_check_sees_a_cycle_made_by_an_import_inside_a_function(tmp_path, monkeypatch):
    pkg = tmp_path / "netreg"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "x.py").write_text("from ..b import y\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", pkg)
    graph = _graph()
    assert graph["netreg.a.x"] == {"netreg.b"} and graph["netreg.b"] == {"netreg.a.x"}
    assert find_cycles(graph) == [["netreg.a.x", "netreg.b", "netreg.a.x"]]


def test_the_public_api_imports_without_heavy_libraries():
    code = ("import sys, netreg\n"
            "from netreg import validate_paths, merge, write_templates, load_config, FORMS, Issue, Report\n"
            "from netreg import UnitState, Severity, NetregError, open_book, write_annotated, Campaign\n"
            "heavy = [m for m in ('openpyxl', 'python_calamine', 'rich', 'jinja2', 'docx', 'lxml') if m in sys.modules]\n"
            "print(heavy, len(FORMS), Report.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] 5 Report"


def test_every_message_template_renders_with_its_declared_parameters():
    import string

    from netreg.model.issues import CODES, DEFAULTS, LOCATION_PARAMS, make

    for code, declared in CODES.items():
        names = {n for _, n, _, _ in string.Formatter().parse(declared.template) if n}
        assert names - LOCATION_PARAMS == set(declared.params), code
        issue = make(code, **{p: f"<{p}>" for p in declared.params})
        assert all(f"<{p}>" in issue.message for p in declared.params), code
        if set(declared.params) - set(DEFAULTS.get(code, {})):
            with pytest.raises(KeyError):  # a parameter missing is an error, never an empty word
                make(code)


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("make", "flag", "flagged"):
            yield node


def test_every_literal_issue_built_in_the_code_gives_its_declared_parameters():
    """Static: each make("code", …) / flag(rec, ctx, "code", …) call names the parameters its
    message needs (or passes **params from a phrase helper of model/issues)."""
    from netreg.model.issues import CODES, DEFAULTS

    checked = 0
    for path in SRC.rglob("*.py"):
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            pos = 0 if call.func.id == "make" else 2
            if len(call.args) <= pos or not isinstance(call.args[pos], ast.Constant):
                continue
            code = call.args[pos].value
            if any(k.arg is None for k in call.keywords):
                continue  # **phrase(...) supplies them
            given = {k.arg for k in call.keywords} | set(DEFAULTS.get(code, {}))
            missing = set(CODES[code].params) - given
            assert not missing, f"{path.name}: {code} lacks {missing}"
            checked += 1
    assert checked >= 15


def test_no_form_is_singled_out_by_number_outside_the_form_description():
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).as_posix() == "model/forms.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.id\s*(==|!=|in)\s*[\d(]|form_id\s*==\s*\d|FORMS_BY_ID\[\d", line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_each_header_text_is_spelled_once_in_the_form_description():
    from netreg.model.forms import FORMS

    for form in FORMS:
        for col in form.columns:
            if col.header in ("序号", "备注", "联系电话"):
                continue  # shared columns, defined once and reused
            for path in SRC.rglob("*.py"):
                if path.relative_to(SRC).as_posix() == "model/forms.py":
                    continue
                if path.name == "roster.py":
                    continue  # the student roster's columns (姓名, 联系方式) are its own, not a form's
                assert f'"{col.header}"' not in path.read_text(encoding="utf-8"), (path.name, col.header)


def test_the_cli_layer_stays_thin():
    """A command is a page: parse, call one function, render. Eleven commands share the app,
    the options and the error boundary; none of them grows a page of logic of its own."""
    from netreg.cli import app

    modules = list((SRC / "cli").glob("*.py"))
    lines = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in modules}
    assert all(n < 140 for n in lines.values()), lines
    assert sum(lines.values()) < 70 * len(app.registered_commands), (sum(lines.values()), len(app.registered_commands))


BOUNDARIES = ("netreg.app", "netreg.pipeline", "netreg.cli", "netreg.web")


def layer_breaches(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports that call up the layers (ARCHITECTURE.md): below ``app`` nothing imports the
    orchestration (``app``, ``pipeline``) or a boundary (``cli``, ``web``); ``pipeline`` does not
    import ``app``; ``render`` does not reach into ``excel``."""
    out = []
    for module, deps in graph.items():
        if module == "netreg" or module.startswith(("netreg.app", "netreg.cli", "netreg.web", "netreg.__main__")):
            continue  # the public API, the orchestration and the boundaries
        above = ("netreg.app", "netreg.cli", "netreg.web") if module == "netreg.pipeline" else BOUNDARIES
        out += [(module, d) for d in sorted(deps) if d.startswith(above)]
        if module.startswith("netreg.render."):
            out += [(module, d) for d in sorted(deps) if d.startswith("netreg.excel")]
    return sorted(out)


def test_nothing_below_the_application_layer_calls_up_into_it():
    assert layer_breaches(_graph()) == []


def test_the_layer_check_sees_an_import_up_hidden_in_a_function(tmp_path, monkeypatch):
    pkg = tmp_path / "netreg"
    for sub in ("app", "campaign", "render", "excel"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "pipeline.py").write_text("")
    (pkg / "app" / "merge.py").write_text("from ..campaign import counting\n")
    (pkg / "campaign" / "counting.py").write_text("def f():\n    from ..pipeline import x\n")
    (pkg / "render" / "terminal.py").write_text("def g():\n    from ..excel.summary import note\n")
    (pkg / "excel" / "summary.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "SRC", pkg)
    assert layer_breaches(_graph()) == [("netreg.campaign.counting", "netreg.pipeline"),
                                        ("netreg.render.terminal", "netreg.excel.summary")]
