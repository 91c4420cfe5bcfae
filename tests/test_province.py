"""Province scale (issue 17): past SPILL_ROWS a run keeps its records and issues in a
temporary file, not in memory. What the coordinator gets must not change: the summary's
every cell, the JSON, the counts. Each test runs the same folder both ways — everything
in memory (the default at this size) and everything spilled (NETREG_SPILL_ROWS=0) — and
compares. The folder mixes what takes the different paths: generated returns of many
units, the same account in two units and a student's phone on an account (cross-file
flags on records already on disk), a college summary read as its units' rows, a summary
left among its own units' files (named, its rows dropped), a byte-identical copy and
[rules] levels (issues rewritten after the flags)."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date
from pathlib import Path

import pytest
from builders import filled_template
from typer.testing import CliRunner

from netreg.cli import app
from netreg.config import Campaign
from netreg.model.store import Issues, Records
from netreg.pipeline import validate_paths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench  # noqa: E402

AS_OF = "2025-11-25"
ACCOUNT = {"platform": "微信公众号", "account_name": "漯职医学院", "account_id": "gh_0123456789ab",
           "followers": 5230, "opened": date(2019, 9, 1), "purpose": "信息发布", "admin": "李娜",
           "phone": "13812345678"}
STUDENT = {"platform": "抖音", "account_id": "lin_vlog", "account_name": "小林的vlog", "followers": 12000,
           "topic": "校园生活", "person": "林晓", "major": "护理2023级", "phone": "13612345678"}
RULES = '[rules]\n"number-approximate" = "info"\n"website-stale" = "off"\n"duplicate-account" = "error"\n'


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("province")
    inp = base / "in"
    bench.generate(inp, 30)  # units 0…29 of the school's list, 10–60 rows per form
    filled_template(inp / "医学院-补充.xlsx", "医学院", {2: [ACCOUNT]})
    filled_template(inp / "信息工程学院-补充.xlsx", "信息工程学院",
                    {2: [{**ACCOUNT, "account_id": "GH_0123456789AB ", "phone": "13612345678"}], 5: [STUDENT]})
    shutil.copyfile(next(inp.glob("0003-*.xlsx")), inp / "0003-副本.xlsx")
    # a summary of two units whose own files are here too: named, never counted twice
    own = base / "own"
    own.mkdir()
    for f in sorted(inp.glob("000[12]-*.xlsx")):
        shutil.copyfile(f, own / f.name)
    # and a college's summary of units nobody else sent: read as its units' rows
    college = base / "college"
    college.mkdir()
    rng = bench.random.Random(7)
    for k in range(3):
        unit = f"某学院第{k + 1}系"
        bench._write_xlsx(college / f"{unit}.xlsx", unit, bench._tables(rng, unit))
    for src, out in ((own, inp / "汇总-旧.xlsx"), (college, inp / "某学院汇总.xlsx")):
        result = CliRunner().invoke(app, ["merge", str(src), "-o", str(out), "--as-of", AS_OF])
        assert result.exit_code in (0, 1), result.output
    (base / "netreg.toml").write_text(RULES, encoding="utf-8")
    return base


def _both(monkeypatch, run):
    """``run()`` with everything in memory, then with everything spilled to disk."""
    monkeypatch.delenv("NETREG_SPILL_ROWS", raising=False)
    kept = run()
    monkeypatch.setenv("NETREG_SPILL_ROWS", "0")
    spilled = run()
    monkeypatch.delenv("NETREG_SPILL_ROWS")
    return kept, spilled


def test_a_spilled_report_holds_what_the_report_in_memory_holds(folder, monkeypatch):
    config = Campaign.model_validate({"rules": {"number-approximate": "info", "website-stale": "off",
                                                "duplicate-account": "error"}})
    kept, spilled = _both(monkeypatch, lambda: validate_paths([folder / "in"], config, as_of=date(2025, 11, 25)))
    assert isinstance(kept.records, tuple) and isinstance(spilled.records, Records)
    assert isinstance(spilled.issues, Issues)
    assert len(kept.records) == len(spilled.records) > 3000
    assert [(r.unit, r.file, r.sheet, r.row, r.values, r.extras, r.issues) for r in kept.records] == \
           [(r.unit, r.file, r.sheet, r.row, r.values, r.extras, r.issues) for r in spilled.records]
    assert tuple(spilled.issues) == kept.issues and spilled.files == kept.files
    assert (spilled.errors, spilled.warnings) == (kept.errors, kept.warnings)
    codes = {i.code for i in kept.issues}
    # the paths this folder exists to take
    assert {"duplicate-account", "student-phone-binding", "netreg-output", "file-duplicate"} <= codes
    assert "website-stale" not in codes
    dup = [i for i in spilled.issues if i.code == "duplicate-account"]
    assert len(dup) == 2 and all(i.severity == "error" for i in dup)
    assert {r.unit for r in spilled.records if r.file.endswith("某学院汇总.xlsx")} == {"某学院第1系", "某学院第2系",
                                                                                       "某学院第3系"}
    assert not any(r.file.endswith("汇总-旧.xlsx") for r in spilled.records)


def _cells(path: Path) -> dict[str, list[list]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def test_a_spilled_merge_writes_the_same_summary_and_json(folder, monkeypatch, tmp_path):
    cfg = str(folder / "netreg.toml")
    outs = iter([tmp_path / "memory.xlsx", tmp_path / "disk.xlsx"])

    def merge():
        out = next(outs)
        result = CliRunner().invoke(app, ["merge", str(folder / "in"), "-o", str(out), "--as-of", AS_OF,
                                          "--config", cfg])
        assert result.exit_code == 1, result.output
        assert "（一致）" in result.output
        return _cells(out), result.output.replace(str(out), "汇总.xlsx")

    (kept, said), (spilled, said_spilled) = _both(monkeypatch, merge)
    assert said_spilled == said
    assert list(spilled) == list(kept) and "问题清单" in kept
    for sheet in kept:
        assert spilled[sheet] == kept[sheet], sheet
    assert len(kept["附件2"]) > 500

    def validate():
        result = CliRunner().invoke(app, ["validate", str(folder / "in"), "--format", "json", "--as-of", AS_OF,
                                          "--config", cfg])
        return json.loads(result.stdout)

    kept, spilled = _both(monkeypatch, validate)
    assert spilled == kept and kept["summary"]["rows"] > 3000


@pytest.mark.parametrize("rules", [{}, {"below-threshold": "off", "unit-not-listed": "off"}])
def test_a_spilled_report_is_counted_without_reading_it_back(folder, monkeypatch, rules):
    """The charts' figures, each unit's status and the commonest problems of a spilled report
    are what the report in memory gives, counted as it was built: nothing is read back for
    them (issue 24: at 3,000 units each read back cost ~4 CPU-s)."""
    from netreg.model.report import figures, unit_statuses
    from netreg.model.store import RecordStore
    from netreg.render.terminal import top_problems
    from netreg.util.spill import Spill

    config = Campaign.model_validate({"rules": rules})
    kept, spilled = _both(monkeypatch, lambda: validate_paths([folder / "in"], config, as_of=date(2025, 11, 25)))
    assert isinstance(spilled.records, Records)
    expected = (figures(kept.records), unit_statuses(kept), top_problems(kept.issues))
    assert expected[0].teachers + expected[0].students > 0 and expected[0].cleaned + expected[0].pending > 0

    def unread(*_a, **_k):
        raise AssertionError("read back from disk")

    monkeypatch.setattr(RecordStore, "load", unread)
    monkeypatch.setattr(Spill, "get", unread)
    assert (figures(spilled.records), unit_statuses(spilled), top_problems(spilled.issues)) == expected
