"""Every format units send back, end to end: the corpus of ``formats_corpus.py`` (nine units,
.docx ×2, .xls ×2, .ods, .csv ×2, a stacked .xlsx, a .zip of five .xlsx, a plain .xlsx) through
``netreg validate --format json``.

For every corpus file netreg must report status ok, the right unit and the data rows per form;
every planted issue at its (code, file, sheet, cell); on the data cells nothing else (issues
without a row or column, such as form-not-found for a unit that sent one csv, are out of scope);
and summary.rows must equal the manifest's total.

``test_every_format_end_to_end`` fails until the readers for .docx, .xls/.ods, .csv and .zip
are wired in: that is on purpose (no xfail), it is how we know they work. The other tests pass
today: the corpus reads back as the manifest says, netreg reads its .xlsx files (and the zip's
members given as files) exactly as planted, and the grids a reader should hand on, given to
today's netreg as .xlsx, are reported exactly as planted too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from formats_corpus import AS_OF, Manifest, build_corpus, grids_as_xlsx, todays_subset, verify_corpus
from office import require_soffice

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "samples" / "units.txt"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Manifest:
    require_soffice()  # .xls/.ods/.docx made by LibreOffice; skips locally without it, fails in CI
    return build_corpus(tmp_path_factory.mktemp("formats") / "回收材料")


def validate_json(path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "netreg", "validate", str(path), "--format", "json",
         "--as-of", AS_OF.isoformat(), "--units", str(UNITS)],
        capture_output=True, text=True, encoding="utf-8",
        env={**os.environ, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode in (0, 1), f"netreg validate exited {proc.returncode}: {proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def differences(report: dict, manifest: Manifest, folder: Path, names: dict[str, str], *,
                word_places: bool = True) -> list[str]:
    """What netreg reported on ``folder`` that the manifest does not say, and the reverse.
    ``names`` maps a file's path relative to ``folder`` (as netreg shows it, ``/``-separated) to
    its name in the manifest."""

    def name_of(path: str | None) -> str | None:
        if path is None:
            return None
        try:
            rel = Path(path).relative_to(folder).as_posix()
        except ValueError:
            return path
        return names.get(rel, rel)

    problems: list[str] = []
    wanted = {names[n]: manifest.file(names[n]) for n in names}
    by_name = {name_of(f["path"]): f for f in report["files"]}
    sheet_of: dict[str, str] = {}  # csv: the one grid's name is netreg's to choose
    unread: set[str] = set()  # their planted issues are not listed one by one
    for name, entry in wanted.items():
        got = by_name.get(name)
        if got is None or got["status"] != "ok":
            unread.add(name)
            what = "not among the files netreg read" if got is None else f"status {got['status']!r}"
            problems.append(f"{name}: {what}, expected 'ok' with {entry.rows} rows and "
                            f"{len(entry.issues)} planted issues ({entry.how})")
            continue
        if got["unit"] != entry.unit:
            problems.append(f"{name}: unit {got['unit']!r}, expected {entry.unit!r}")
        rows = {int(k): v["rows"] for k, v in got["forms"].items()}
        if rows != entry.rows:
            problems.append(f"{name}: rows per form {rows}, expected {entry.rows}")
        sheets = {v["sheet"] for v in got["forms"].values()}
        if entry.single_grid and len(sheets) == 1:
            sheet_of[name] = sheets.pop()

    def place(i: dict) -> str:
        """An Excel cell (E7), or a Word table's 第r行 第c列 (JSON gives its column as a number)."""
        if isinstance(i["column"], int):
            return f"第{i['row']}行 第{i['column']}列"
        return f"{i['column'] or ''}{i['row'] or ''}"

    planted = {(code, file, sheet_of.get(file, sheet), cell)
               for code, file, sheet, cell in manifest.planted(places=word_places) if file in wanted}
    expected = {k for k in planted if k[3]}
    reported = {(i["code"], name_of(i["file"]), i["sheet"], place(i)) for i in report["issues"]
                if name_of(i["file"]) in wanted and (i["row"] is not None or i["column"] is not None)}
    # planted where Word has no row (the 填表人 paragraph): reported for its table, with no place
    unplaced = {(i["code"], name_of(i["file"]), i["sheet"]) for i in report["issues"]
                if i["row"] is None and i["column"] is None}
    for code, file, sheet, _ in sorted(k for k in planted if not k[3]):
        if file not in unread and (code, file, sheet) not in unplaced:
            problems.append(f"{file}: planted {code} in {sheet} (a paragraph, no row) was not reported")
    values = {(i["code"], name_of(i["file"]), i["sheet"], place(i)): i["value"] for i in report["issues"]}
    by_place = lambda k: (k[1], k[2] or "", len(k[3]), k[3], k[0])  # noqa: E731 (file, sheet, cell, code)
    for code, file, sheet, cell in sorted(expected - reported, key=by_place):
        if file not in unread:
            problems.append(f"{file}: planted {code} at {sheet}!{cell} was not reported")
    for key in sorted(reported - expected, key=by_place):
        code, file, sheet, cell = key
        problems.append(f"{file}: unexpected {code} at {sheet}!{cell} (value {values.get(key)!r})")

    total = sum(n for entry in wanted.values() for n in entry.rows.values())
    if report["summary"]["rows"] != total:
        problems.append(f"summary.rows = {report['summary']['rows']}, expected {total}")
    return problems


def test_corpus_files_hold_what_the_manifest_says(corpus):
    """Read back without netreg: openpyxl, LibreOffice → .xlsx for .xls/.ods, python-docx, csv;
    plus what each container must be (BOM or not, GBK member names, merged 类别, OLE2)."""
    problems = verify_corpus(corpus)
    assert not problems, "\n".join(problems)
    assert len(corpus.files) == 14 and len({f.unit for f in corpus.files}) == 9
    assert {f.fmt for f in corpus.files} == {"docx", "xls", "ods", "csv", "xlsx"}


def test_corpus_is_deterministic(tmp_path):
    first = build_corpus(tmp_path / "a", libreoffice=False)
    build_corpus(tmp_path / "b", libreoffice=False)
    for entry in first.files:
        name = entry.name.split("/", 1)[0]
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_every_format_end_to_end(corpus):
    """Fails until every reader is wired in (each missing format shows as files not read)."""
    report = validate_json(corpus.root)
    problems = differences(report, corpus, corpus.root, {f.name: f.name for f in corpus.files})
    assert not problems, "\n".join(problems)


def test_the_spreadsheets_netreg_reads_today(tmp_path):
    """The plain .xlsx, the stacked sheet and the zip's members given as loose files."""
    manifest = build_corpus(tmp_path / "corpus", libreoffice=False)
    folder = tmp_path / "今天能读的"
    names = todays_subset(manifest, folder)
    assert len(names) == 7
    problems = differences(validate_json(folder), manifest, folder, names)
    assert not problems, "\n".join(problems)


def test_the_grids_a_reader_should_hand_on_give_exactly_the_planted_issues(corpus, tmp_path):
    """Each file as the grids the manifest's cells are counted in (Word tables with the
    paragraphs above them, csv records, .xls/.ods via LibreOffice), written as .xlsx for
    today's netreg: checks the manifest itself, whatever the new readers do."""
    folder = tmp_path / "grids"
    names = grids_as_xlsx(corpus, folder)
    problems = differences(validate_json(folder), corpus, folder, names, word_places=False)
    assert not problems, "\n".join(problems)
