"""netreg template against a bare xlsxwriter writer of the same workbook (issue 24, target 4).

    python benchmarks/bench_template.py [N] [--no-cli] [--serial]

Three figures, in CPU-seconds of this process and its children (the machine is a shared,
noisy VM: compare within one run):

- ``netreg``: N units' blank workbooks through netreg's own code path, as ``netreg template``
  writes them (``excel.prefill.write_prefilled`` with no rows, forked workers from 8 units on;
  ``--serial`` keeps it in this process);
- ``cli``: ``netreg template --units FILE -o DIR --force`` as a subprocess (start-up included);
- ``xlsxwriter``: the same N workbooks written by xlsxwriter alone, cell for cell: the same
  values, fonts, fills, borders, alignments and number formats on the same cells, the same
  merged ranges, column widths, row heights, data validations, frozen panes, print setup and
  print titles, the very-hidden metadata sheet and the custom document properties. What to
  write (the "plan") is read once from netreg's openpyxl workbook, outside the timing; each
  unit's name is then written into it, as netreg does. It is a floor: no layout work at all.

``run(n) -> dict`` is for other scripts; ``ratio`` is netreg / xlsxwriter.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("NETREG_SRC", str(HERE.parent / "src")))  # NETREG_SRC: another tree, for A/B

PLAN_UNIT = "医学院"


def cpu() -> float:
    """CPU-seconds of this process and its waited-for children (forked workers, the CLI)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def units_of(n: int) -> list[str]:
    return [f"第{i + 1}学院" for i in range(n)]


# --------------------------------------------------------------------------- the plan

def plan(config) -> dict:
    """Everything xlsxwriter needs to write netreg's blank workbook, read from the openpyxl
    workbook netreg builds (``PLAN_UNIT``'s; the unit's cells are marked for substitution)."""
    from netreg.excel.template import build_workbook

    wb = build_workbook(config, PLAN_UNIT)
    sheets = []
    for ws in wb.worksheets:
        cells = []
        for (r, c), cell in sorted(ws._cells.items()):
            if type(cell).__name__ == "MergedCell":
                continue
            f, a, b, fill = cell.font, cell.alignment, cell.border, cell.fill
            style = (f.name, f.sz, bool(f.b), fill.fgColor.rgb if fill.fill_type == "solid" else None,
                     b.left.style if b.left is not None else None,
                     a.horizontal, a.vertical, bool(a.wrap_text), bool(a.shrink_to_fit),
                     cell.number_format, bool(cell.quotePrefix))
            value = cell.value
            unit = isinstance(value, str) and PLAN_UNIT in value
            cells.append((r - 1, c - 1, value, style, unit))
        dvs = []
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                dvs.append((rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1, _dv_options(dv)))
        sheets.append(dict(
            name=ws.title, state=ws.sheet_state, cells=cells,
            merged=[(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges],
            widths={k: d.width for k, d in ws.column_dimensions.items() if d.width},
            heights={r - 1: d.height for r, d in ws.row_dimensions.items() if d.height},
            dvs=dvs, freeze=ws.freeze_panes, titles=ws.print_title_rows, fit=ws.sheet_properties.pageSetUpPr is not None
            and bool(ws.sheet_properties.pageSetUpPr.fitToPage),
        ))
    props = [(p.name, p.value) for p in wb.custom_doc_props]
    return dict(sheets=sheets, props=props)


_DV_TYPES = {"list": "list", "whole": "integer", "date": "date", "textLength": "length", None: "any"}


def _dv_options(dv) -> dict:
    opts: dict = {"validate": _DV_TYPES[dv.type], "ignore_blank": bool(dv.allow_blank),
                  "show_input": bool(dv.showInputMessage), "show_error": bool(dv.showErrorMessage)}
    if dv.type == "list":
        opts["source"] = dv.formula1 if not dv.formula1.startswith('"') else dv.formula1.strip('"').split(",")
        if not isinstance(opts["source"], list):
            opts["source"] = "=" + opts["source"]
    elif dv.type is not None:
        op = {"between": "between", "greaterThanOrEqual": ">="}[dv.operator]
        opts["criteria"] = op
        if op == "between":
            opts["minimum"], opts["maximum"] = _formula(dv.formula1), _formula(dv.formula2)
        else:
            opts["value"] = _formula(dv.formula1)
    if dv.promptTitle:
        opts["input_title"] = dv.promptTitle
    if dv.prompt:
        opts["input_message"] = dv.prompt
    if dv.errorTitle:
        opts["error_title"] = dv.errorTitle
    if dv.error:
        opts["error_message"] = dv.error
    if dv.errorStyle:
        opts["error_type"] = dv.errorStyle
    return opts


def _formula(text: str):
    return int(text) if text.isdigit() else "=" + text


def write_xlsxwriter(the_plan: dict, unit: str, path: Path) -> None:
    """One workbook, bare xlsxwriter: the plan's cells, formats and checks, for ``unit``."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    formats: dict = {}

    def fmt(style):
        f = formats.get(style)
        if f is None:
            name, size, bold, fill, border, h, v, wrap, shrink, number, quote = style
            props = {"font_name": name, "font_size": size, "bold": bold}
            if fill:
                props.update(pattern=1, bg_color="#" + fill[-6:])
            if border:
                props["border"] = 1
            if h:
                props["align"] = h
            if v:
                props["valign"] = {"center": "vcenter"}.get(v, v)
            if wrap:
                props["text_wrap"] = True
            if shrink:
                props["shrink"] = True
            if number and number != "General":
                props["num_format"] = number
            if quote:
                props["quote_prefix"] = True
            f = formats[style] = wb.add_format(props)
        return f

    for sheet in the_plan["sheets"]:
        ws = wb.add_worksheet(sheet["name"])
        for letter, width in sheet["widths"].items():
            col = ord(letter) - 65
            ws.set_column(col, col, width)
        for row, height in sheet["heights"].items():
            ws.set_row(row, height)
        merged = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in sheet["merged"]}
        for r, c, value, style, is_unit in sheet["cells"]:
            if is_unit:
                value = value.replace(PLAN_UNIT, unit)
            f = fmt(style)
            if (r, c) in merged:
                r1, c1 = merged.pop((r, c))
                ws.merge_range(r, c, r1, c1, value, f)
            elif value is None:
                ws.write_blank(r, c, None, f)
            elif isinstance(value, str):
                ws.write_string(r, c, value, f)
            else:
                ws.write_number(r, c, value, f)
        for (r0, c0), (r1, c1) in merged.items():
            ws.merge_range(r0, c0, r1, c1, None)
        for r0, c0, r1, c1, opts in sheet["dvs"]:
            ws.data_validation(r0, c0, r1, c1, opts)
        if sheet["freeze"]:
            ws.freeze_panes(sheet["freeze"])
        if sheet["fit"]:
            ws.set_landscape()
            ws.set_paper(9)
            ws.fit_to_pages(1, 0)
            ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
            ws.center_horizontally()
            ws.set_footer("&C第 &P 页 共 &N 页", {"margin": 0.3})
            ws.set_header("", {"margin": 0.3})
        if sheet["titles"]:
            first, last = sheet["titles"].replace("$", "").split(":")
            ws.repeat_rows(int(first) - 1, int(last) - 1)
        if sheet["state"] == "veryHidden":
            ws.very_hidden()
        elif sheet["state"] == "hidden":
            ws.hide()
    for name, value in the_plan["props"]:
        wb.set_custom_property(name, value.replace(PLAN_UNIT, unit) if name.endswith("unit") else value)
    wb.close()


# --------------------------------------------------------------------------- runs

def run(n: int = 100, *, cli: bool = True, serial: bool = False) -> dict:
    """CPU-seconds for ``n`` workbooks: netreg's own path, the CLI, bare xlsxwriter; and ratios."""
    from netreg.config import Campaign
    from netreg.excel import prefill, template

    config = Campaign()
    units = units_of(n)
    result: dict = {"n": n}
    with tempfile.TemporaryDirectory(prefix="bench-template-") as tmp:
        root = Path(tmp)
        the_plan = plan(config)
        write_xlsxwriter(the_plan, units[0], root / "warm.xlsx")  # imports, first-call costs
        prefill.write_prefilled(config, units[:1], {}, root / "warm", force=True)

        saved = template.PARALLEL_MIN_UNITS
        if serial:
            template.PARALLEL_MIN_UNITS = 10**9
        try:
            t0 = cpu()
            written = prefill.write_prefilled(config, units, {}, root / "netreg", force=True)
            result["netreg_cpu"] = cpu() - t0
        finally:
            template.PARALLEL_MIN_UNITS = saved
        assert all(w.status == "written" for w in written), [w for w in written if w.status != "written"]

        out = root / "xlsxwriter"
        out.mkdir()
        t0 = cpu()
        for i, unit in enumerate(units):
            write_xlsxwriter(the_plan, unit, out / f"{i}.xlsx")
        result["xlsxwriter_cpu"] = cpu() - t0

        if cli:
            names = root / "units.txt"
            names.write_text("\n".join(units) + "\n", encoding="utf-8")
            exe = Path(sys.executable).with_name("netreg")
            cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "netreg"]
            t0 = cpu()
            subprocess.run([*cmd, "template", "--units", str(names), "-o", str(root / "cli"), "--force"],
                           check=True, capture_output=True, env={**os.environ, "COLUMNS": "200"})
            result["cli_cpu"] = cpu() - t0
            t0 = cpu()
            subprocess.run([*cmd, "--help"], check=True, capture_output=True)
            result["cli_startup_cpu"] = cpu() - t0
        result["netreg_bytes"] = sum(p.stat().st_size for p in (root / "netreg").glob("*.xlsx")) // n
        result["xlsxwriter_bytes"] = sum(p.stat().st_size for p in out.glob("*.xlsx")) // n
    result["netreg_ms_per_book"] = 1000 * result["netreg_cpu"] / n
    result["xlsxwriter_ms_per_book"] = 1000 * result["xlsxwriter_cpu"] / n
    result["ratio"] = result["netreg_cpu"] / result["xlsxwriter_cpu"]
    if cli:
        result["cli_ms_per_book"] = 1000 * result["cli_cpu"] / n
        result["cli_ratio"] = result["cli_cpu"] / result["xlsxwriter_cpu"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=100)
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI subprocess")
    parser.add_argument("--serial", action="store_true", help="netreg in this process only (no workers)")
    args = parser.parse_args()
    r = run(args.n, cli=not args.no_cli, serial=args.serial)
    print(f"N={r['n']} workbooks, CPU-seconds (this process + children)")
    print(f"  netreg (write_prefilled, as `netreg template`): {r['netreg_cpu']:.2f} s  "
          f"{r['netreg_ms_per_book']:.1f} ms/book  {r['netreg_bytes']} B/book")
    print(f"  bare xlsxwriter, same cells:                   {r['xlsxwriter_cpu']:.2f} s  "
          f"{r['xlsxwriter_ms_per_book']:.1f} ms/book  {r['xlsxwriter_bytes']} B/book")
    print(f"  ratio netreg / xlsxwriter: {r['ratio']:.2f}x")
    if "cli_cpu" in r:
        print(f"  CLI `netreg template` (start-up included): {r['cli_cpu']:.2f} s  {r['cli_ms_per_book']:.1f} ms/book  "
              f"ratio {r['cli_ratio']:.2f}x  (`netreg --help` alone: {r['cli_startup_cpu']:.2f} s)")


if __name__ == "__main__":
    main()
