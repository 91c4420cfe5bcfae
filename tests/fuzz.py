"""Seeded mutants of what units send back, for tests/test_fuzz.py and the long fuzz run.

Each mutant starts from a real input and damages it the way broken tools, interrupted copies
and hostile senders do: the sample workbooks of samples/returned/ (one XML part damaged with
knowledge of its structure, or the package's parts, relationships and content types, or raw
bytes of the whole file), a Word document with the notice's table, a CSV export, and a zip of
several returned files. The same seed always gives the same files.

``run_validate`` runs ``netreg validate --format json`` on many files in one subprocess and
checks what a coordinator relies on: no traceback, an exit code of 0, 1 or 2, one JSON
document, every file given accounted for (read, or named by an issue), no reader failure
reported as an internal error, and an answer within the time allowed.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import random
import re
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "returned"
AS_OF = "2025-11-25"

# --------------------------------------------------------------------------- package surgery


def read_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_parts(parts: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    import warnings

    buf = io.BytesIO()
    items = parts.items() if isinstance(parts, dict) else parts
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is one of the damages
        for name, data in items:
            zf.writestr(zipfile.ZipInfo(name, (2025, 11, 20, 9, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def relocate(data: bytes, folder: str, workbook: str = "workbook.xml") -> bytes:
    """A valid package with every part under xl/ moved to ``folder`` ('' = the package root) and
    the workbook part renamed ``workbook``; [Content_Types].xml, _rels/.rels and every
    relationship (relative or absolute) follow, as a tool that lays packages out differently
    would write them."""
    parts = read_parts(data)

    def moved(name: str) -> str:
        if name == "xl/workbook.xml":
            return posixpath.join(folder, workbook)
        if name == "xl/_rels/workbook.xml.rels":
            return posixpath.join(folder, "_rels", workbook + ".rels")
        return posixpath.join(folder, name[3:]) if name.startswith("xl/") else name

    out = {}
    for name, body in parts.items():
        if name.endswith(".rels"):
            source = posixpath.dirname(posixpath.dirname(name))  # the folder of the part they belong to
            target_dir = posixpath.dirname(posixpath.dirname(moved(name)))

            def fix(m: re.Match, source=source, target_dir=target_dir) -> bytes:
                target = m.group(2).decode()
                if re.match(r"[a-z]+:", target):
                    return m.group(0)
                full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(source, target))
                new = moved(full)
                new = "/" + new if target.startswith("/") else posixpath.relpath(new, target_dir or ".")
                return m.group(1) + new.encode() + m.group(3)
            body = re.sub(rb'(Target=")([^"]*)(")', fix, body)
        elif name == "[Content_Types].xml":
            body = re.sub(rb'PartName="/([^"]*)"', lambda m: b'PartName="/' + moved(m.group(1).decode()).encode() + b'"', body)
        out[moved(name)] = body
    return write_parts(out)


# --------------------------------------------------------------------------- XML damage

ABSURD_REFS = [b"A99999999999", b"XFD1048576", b"AAAAAAA1", b"A0", b"", b"-1", b"1A", b"A4294967296",
               b"ZZZ99999999999999999999", b"a1", b"$A$1", b"A1:B2"]
HUGE_NUMBERS = [b"1e308", b"1e309", b"-1e400", b"99999999999999999999999999999", b"NaN", b"inf", b"-0",
                b"0x1F", b"1" * 5000, b"4294967296", b"", b"  12  ", b"1.7976931348623157e+308"]
BAD_BYTES = [b"\xff\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"\xe4\xb8", b"\x00", b"\x80", b"\xf8\x88\x80\x80\x80"]
ENTITIES = [b"&#0;", b"&#xFFFE;", b"&#xD800;", b"&bogus;", b"&#99999999;", b"&amp", b"&#x110000;"]
BIG_COUNTS = [b"4294967296", b"18446744073709551616", b"-1", b"99999999999999999999", b"abc", b"0"]


def _pick(rnd: random.Random, data: bytes, pattern: bytes) -> re.Match | None:
    found = list(re.finditer(pattern, data))
    return rnd.choice(found) if found else None


def _unclose(rnd, data):
    """A tag left open: a '>' or a whole end tag removed."""
    m = _pick(rnd, data, rb"</[A-Za-z:]+>" if rnd.random() < 0.5 else rb">")
    return data if m is None else data[:m.start()] + data[m.end():]


def _dup_row(rnd, data):
    m = _pick(rnd, data, rb"<row\b[^>]*>.{0,4000}?</row>")
    if m is None:
        return data
    return data[:m.end()] + m.group(0) * rnd.choice([1, 2, 50]) + data[m.end():]


def _absurd_ref(rnd, data):
    m = _pick(rnd, data, rb'\br="[^"]*"')
    return data if m is None else data[:m.start()] + b'r="' + rnd.choice(ABSURD_REFS) + b'"' + data[m.end():]


def _huge_number(rnd, data):
    m = _pick(rnd, data, rb"<v>[^<]*</v>")
    return data if m is None else data[:m.start()] + b"<v>" + rnd.choice(HUGE_NUMBERS) + b"</v>" + data[m.end():]


def _bad_utf8(rnd, data):
    m = _pick(rnd, data, rb">[^<]")
    at = m.start() + 1 if m else rnd.randrange(len(data) + 1)
    return data[:at] + rnd.choice(BAD_BYTES) + data[at:]


def _entity(rnd, data):
    m = _pick(rnd, data, rb">[^<]")
    at = m.start() + 1 if m else rnd.randrange(len(data) + 1)
    return data[:at] + rnd.choice(ENTITIES) + data[at:]


def _absurd_count(rnd, data):
    m = _pick(rnd, data, rb'\b(?:count|uniqueCount)="[^"]*"|<dimension ref="[^"]*"')
    if m is None:
        return data
    if m.group(0).startswith(b"<dimension"):
        return data[:m.start()] + b'<dimension ref="A1:' + rnd.choice(ABSURD_REFS) + b'"' + data[m.end():]
    name = m.group(0).split(b"=")[0]
    return data[:m.start()] + name + b'="' + rnd.choice(BIG_COUNTS) + b'"' + data[m.end():]


def _bad_type(rnd, data):
    m = _pick(rnd, data, rb'<c [^>]*>')
    if m is None:
        return data
    tag = re.sub(rb'\s+t="[^"]*"', b"", m.group(0))
    kind = rnd.choice([b"s", b"b", b"e", b"d", b"str", b"inlineStr", b"n", b"x"])
    tag = tag[:2] + b' t="' + kind + b'"' + tag[2:]
    return data[:m.start()] + tag + data[m.end():]


def _shared_index(rnd, data):
    m = _pick(rnd, data, rb'<c [^>]*t="s"[^>]*><v>[0-9]+</v>')
    if m is None:
        return data
    head = m.group(0)[:m.group(0).rindex(b"<v>")]
    return data[:m.start()] + head + b"<v>" + rnd.choice([b"999999", b"4294967296", b"-1", b"x"]) + b"</v>" + data[m.end():]


def _deep_nest(rnd, data):
    at = data.find(b"<sheetData>")
    at = at + len(b"<sheetData>") if at >= 0 else data.find(b">", data.find(b"<", 40)) + 1
    n = rnd.choice([300, 5000])
    return data[:at] + b"<x>" * n + b"</x>" * n + data[at:]


def _merge_absurd(rnd, data):
    ranges = b"".join(b'<mergeCell ref="A%d:%s"/>' % (rnd.randrange(1, 20), rnd.choice(ABSURD_REFS + [b"XFD1048576"]))
                      for _ in range(rnd.choice([1, 3, 2000])))
    if b"</sheetData>" not in data:
        return data
    return data.replace(b"</sheetData>", b"</sheetData><mergeCells>" + ranges + b"</mergeCells>", 1)


def _formula(rnd, data):
    m = _pick(rnd, data, rb'<c r="[A-Z]+[0-9]+"[^>/]*>')
    if m is None:
        return data
    inject = rnd.choice([b"<f>SUM(A1:A2", b'<f t="shared" si="99999999"/>', b"<f>" + b"(" * 10000 + b"</f>",
                         b"<f>" + b"x" * 40000 + b"</f>", b"<f></f>", b"<f>=cmd|' /C calc'!A0</f>"])
    return data[:m.end()] + inject + data[m.end():]


def _truncate(rnd, data):
    return data[:rnd.randrange(len(data) + 1)]


def _flip(rnd, data):
    buf = bytearray(data)
    for _ in range(rnd.choice([1, 4, 32])):
        if buf:
            buf[rnd.randrange(len(buf))] ^= 1 << rnd.randrange(8)
    return bytes(buf)


def _big_text(rnd, data):
    """A text node far past Excel's 32,767 characters (what a script may write)."""
    m = _pick(rnd, data, rb"<t(?: [^>]*)?>[^<]*</t>|<v>[^<]*</v>")
    if m is None:
        return data
    tag = m.group(0)[:m.group(0).index(b">") + 1]
    close = b"</t>" if tag.startswith(b"<t") else b"</v>"
    n = rnd.choice([32_768, 40_000, 200_000])
    return data[:m.start()] + tag + bytes(rnd.choice(b"ABCD") for _ in range(64)) * (n // 64 + 1) + close + data[m.end():]


XML_OPS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "unclosed-tag": _unclose, "duplicate-row": _dup_row, "absurd-ref": _absurd_ref, "huge-number": _huge_number,
    "invalid-utf8": _bad_utf8, "bad-entity": _entity, "absurd-count": _absurd_count, "cell-type": _bad_type,
    "shared-index": _shared_index, "deep-nesting": _deep_nest, "absurd-merge": _merge_absurd,
    "formula": _formula, "truncated-part": _truncate, "flipped-part": _flip, "long-text": _big_text,
}

# --------------------------------------------------------------------------- package damage

_MAIN_TYPES = [b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
               b"application/xml", b"text/plain", b"application/vnd.ms-excel.sheet.binary.macroEnabled.main"]


def _drop_part(rnd, parts):
    name = rnd.choice(sorted(parts))
    return {k: v for k, v in parts.items() if k != name}


def _drop_rel(rnd, parts):
    rels = sorted(k for k in parts if k.endswith(".rels"))
    if not rels:
        return parts
    name = rnd.choice(rels)
    found = list(re.finditer(rb"<Relationship [^>]*/>", parts[name]))
    if not found:
        return parts
    m = rnd.choice(found)
    return {**parts, name: parts[name][:m.start()] + parts[name][m.end():]}


def _retarget(rnd, parts):
    rels = sorted(k for k in parts if k.endswith(".rels"))
    name = rnd.choice(rels) if rels else None
    if name is None:
        return parts
    target = rnd.choice([b"../../../etc/passwd", b"nothing.xml", b"/", b"", b"worksheets/sheet1.xml",
                         b"http://example.invalid/x.xml", b"%2e%2e/x.xml", b"C:\\x.xml"])
    body = re.sub(rb'Target="[^"]*"', lambda m: b'Target="' + target + b'"', parts[name], count=1)
    return {**parts, name: body}


def _content_types(rnd, parts):
    body = parts.get("[Content_Types].xml", b"")
    choice = rnd.randrange(3)
    if choice == 0:
        body = re.sub(rb'ContentType="[^"]*main\+xml"', b'ContentType="' + rnd.choice(_MAIN_TYPES) + b'"', body)
    elif choice == 1:
        body = re.sub(rb"<Override [^>]*/>", b"", body)
    else:
        body = b"<Types/>"
    return {**parts, "[Content_Types].xml": body}


def _relocated(rnd, parts):
    folder, name = rnd.choice([("", "workbook.xml"), ("book", "main.xml"), ("a/b", "workbook.xml")])
    return read_parts(relocate(write_parts(parts), folder, name))


def _duplicate_member(rnd, parts):
    name = rnd.choice(sorted(parts))
    return [*parts.items(), (name, rnd.choice([b"", b"<x/>", parts[name][: len(parts[name]) // 2]]))]


PACKAGE_OPS: dict[str, Callable] = {
    "missing-part": _drop_part, "missing-rel": _drop_rel, "bad-rel-target": _retarget,
    "wrong-content-types": _content_types, "relocated-workbook": _relocated, "duplicate-member": _duplicate_member,
}

# --------------------------------------------------------------------------- byte damage


def _byte_flips(rnd, data):
    return _flip(rnd, data)


def _byte_truncate(rnd, data):
    return data[:rnd.randrange(1, len(data))]


def _byte_insert(rnd, data):
    at = rnd.randrange(len(data) + 1)
    return data[:at] + rnd.randbytes(rnd.choice([1, 16, 4096])) + data[at:]


BYTE_OPS: dict[str, Callable] = {"byte-flips": _byte_flips, "byte-truncation": _byte_truncate, "byte-insertion": _byte_insert}

# --------------------------------------------------------------------------- the other inputs

CSV_HEADER = "序号,平台类型,账号名称,账号ID,粉丝人数,开通日期,主要用途,管理员,联系电话,备注"
CSV_ROWS = ["1,微信公众号,漯职团委,gh_0123456789ab,5230,2019-09-01,信息发布,李娜,13812345678,",
            "2,抖音,团委抖音号,tw_douyin,3100,2021/3/5,短视频,王丽,0395-3136789,无"]


def base_csv(encoding: str) -> bytes:
    return ("\r\n".join(["附件2", "填报单位：团委", CSV_HEADER, *CSV_ROWS]) + "\r\n").encode(encoding)


def _csv_mutant(rnd, data):
    kind = rnd.randrange(8)
    if kind == 0:
        return _byte_insert(rnd, data)  # bytes of no encoding
    if kind == 1:
        return data.replace(b",", b'"', rnd.choice([1, 3]))  # unbalanced quotes
    if kind == 2:
        return data + b"3," + b"x" * rnd.choice([40_000, 300_000]) + b"\r\n"  # a field past Excel's limit
    if kind == 3:
        return data + b"," * rnd.choice([100, 20_000]) + b"\r\n"
    if kind == 4:
        return data[:rnd.randrange(1, len(data))]  # truncated, perhaps inside a character
    if kind == 5:
        return data.replace(b"\r\n", b"\r").replace(b",", b";", 5)
    if kind == 6:
        return data.replace(b"\r\n", b"\x00\r\n", 2)
    return _flip(rnd, data)


def base_docx() -> bytes:
    """The notice's 附件2 as a Word table, filled in (python-docx)."""
    import docx

    doc = docx.Document()
    for text in ("附件2", "漯河职业技术学院新媒体账号登记备案表", "填报单位：图书馆", "填表人：张敏    填表人电话：13703951234"):
        doc.add_paragraph(text)
    header = CSV_HEADER.split(",")
    table = doc.add_table(rows=3, cols=len(header))
    for r, values in enumerate([header, *(row.split(",") for row in CSV_ROWS)]):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    table.cell(1, 1).merge(table.cell(2, 1))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_specific(rnd, data):
    kind = rnd.randrange(4)
    if kind == 0:
        return re.sub(rb'<w:tcPr>', b'<w:tcPr><w:gridSpan w:val="' + rnd.choice([b"99999999", b"-5", b"x", b"0"]) + b'"/>', data, count=3)
    if kind == 1:
        return data.replace(b"<w:tcPr>", b"<w:tcPr><w:vMerge/>", 5)
    if kind == 2:
        return re.sub(rb"<w:tr>|<w:tr ", lambda m: m.group(0).replace(b"<w:tr", b'<w:tr><w:trPr><w:gridBefore w:val="1000000"/></w:trPr'), data, count=1)
    return data.replace(b"<w:tbl>", b"<w:tbl><w:tbl>" * 50, 1)


# --------------------------------------------------------------------------- mutants


@dataclass(frozen=True)
class Mutant:
    path: Path
    kind: str  # xlsx-xml, xlsx-package, xlsx-bytes, docx, csv, zip
    op: str
    source: str


def _sheet_xml_parts(parts: dict[str, bytes]) -> list[str]:
    return sorted(n for n in parts if n.endswith(".xml") and not n.endswith(".rels"))


def make_mutants(seed: int, count: int, folder: Path) -> list[Mutant]:
    """``count`` mutants (written to ``folder``) from ``seed``: about 55 % XML damage inside a
    sample workbook, 15 % package damage, 10 % raw bytes of a workbook, 8 % .docx, 6 % .csv,
    6 % .zip."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    samples = sorted(SAMPLES.glob("*.xlsx"))
    originals = {p.name: p.read_bytes() for p in samples}
    docx_base = base_docx()
    out: list[Mutant] = []
    for i in range(count):
        roll = rnd.random()
        src = rnd.choice(samples)
        data = originals[src.name]
        suffix = ".xlsx"
        if roll < 0.55:
            kind, op = "xlsx-xml", rnd.choice(sorted(XML_OPS))
            parts = read_parts(data)
            sheets = [n for n in parts if "worksheets/" in n]
            target = rnd.choice(sheets) if rnd.random() < 0.7 else rnd.choice(_sheet_xml_parts(parts))
            parts[target] = XML_OPS[op](rnd, parts[target])
            data = write_parts(parts)
            op = f"{op}@{target}"
        elif roll < 0.70:
            kind, op = "xlsx-package", rnd.choice(sorted(PACKAGE_OPS))
            data = write_parts(PACKAGE_OPS[op](rnd, read_parts(data)))
        elif roll < 0.80:
            kind, op = "xlsx-bytes", rnd.choice(sorted(BYTE_OPS))
            data = BYTE_OPS[op](rnd, data)
        elif roll < 0.88:
            kind, src_name, suffix = "docx", "附件2.docx", ".docx"
            parts = read_parts(docx_base)
            choice = rnd.randrange(4)
            if choice == 0:
                op = "docx-table"
                parts["word/document.xml"] = _docx_specific(rnd, parts["word/document.xml"])
                data = write_parts(parts)
            elif choice == 1:
                op = rnd.choice(sorted(XML_OPS))
                parts["word/document.xml"] = XML_OPS[op](rnd, parts["word/document.xml"])
                data = write_parts(parts)
                op = f"{op}@word/document.xml"
            elif choice == 2:
                op = rnd.choice(sorted(set(PACKAGE_OPS) - {"relocated-workbook"}))
                data = write_parts(PACKAGE_OPS[op](rnd, parts))
            else:
                op = rnd.choice(sorted(BYTE_OPS))
                data = BYTE_OPS[op](rnd, docx_base)
            src = Path(src_name)
        elif roll < 0.94:
            encoding = rnd.choice(["utf-8-sig", "gb18030", "utf-16"])
            kind, op, suffix, src = "csv", f"csv-{encoding}", ".csv", Path("附件2.csv")
            data = _csv_mutant(rnd, base_csv(encoding))
        else:
            kind, suffix = "zip", ".zip"
            members = [(n, originals[n]) for n in rnd.sample(sorted(originals), 2)]
            members.append(("附件2.csv", base_csv("gb18030")))
            choice = rnd.randrange(5)
            if choice == 0:
                op = "zip-bytes"
                data = BYTE_OPS[rnd.choice(sorted(BYTE_OPS))](rnd, write_parts(members))
            elif choice == 1:
                op = "zip-traversal"
                data = write_parts(members + [("../../逃逸.xlsx", members[0][1])])
            elif choice == 2:
                op = "zip-nested"
                inner = write_parts(members)
                data = write_parts([("内层.zip", write_parts([("再内层.zip", inner)])), *members[:1]])
            elif choice == 3:
                op = "zip-mutant-member"
                parts = read_parts(members[0][1])
                target = rnd.choice(_sheet_xml_parts(parts))
                parts[target] = XML_OPS[rnd.choice(sorted(XML_OPS))](rnd, parts[target])
                data = write_parts([(members[0][0], write_parts(parts)), *members[1:]])
            else:
                op = "zip-duplicate-names"
                data = write_parts(members + [(members[0][0], b"not a workbook")])
            src = Path("报送材料.zip")
        path = folder / f"{i:04d}-{src.stem}{suffix}"
        path.write_bytes(data)
        out.append(Mutant(path, kind, op, src.name))
    return out


# --------------------------------------------------------------------------- running


@dataclass
class Outcome:
    """What one subprocess said about a batch of files."""

    exit: int
    seconds: float
    doc: dict
    status: dict[str, str] = field(default_factory=dict)  # path given -> one of CLASSES
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # path given -> form -> rows read


# read: its forms were read (perhaps with issues on their content); named: skipped with one
# line that is not a failure (a byte-identical copy, a kind netreg does not read, its own
# output); unreadable: one Chinese line saying why (file-unreadable).
CLASSES = ("read", "named", "unreadable")


def _internal(message: str) -> bool:
    """A message that gives up on a reader bug (names an exception, or a reader that aborted)."""
    return "意外错误" in message or "异常退出" in message or re.search(r"[A-Z][a-z]+(Error|Exception)\b", message) is not None


def run_validate(paths: list[Path], timeout: float) -> Outcome:
    """``netreg validate PATHS --format json`` in a subprocess, checked (see the module's doc)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "netreg", "validate", *map(str, paths), "--format", "json",
                           "--as-of", AS_OF], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", "PYTHONWARNINGS": "ignore"})
    seconds = time.perf_counter() - start
    said = proc.stdout + proc.stderr
    assert "Traceback" not in said, said[-3000:]
    assert proc.returncode in (0, 1, 2), (proc.returncode, proc.stderr[-2000:])
    doc = json.loads(proc.stdout)
    out = Outcome(proc.returncode, seconds, doc)
    for path in map(str, paths):
        mine = [f for f in doc["files"] if f["path"] == path or f["path"].startswith(path + "/")]
        issues = [i for i in doc["issues"] if i["file"] == path or (i["file"] or "").startswith(path + "/")]
        assert mine or issues, f"{path}: neither read nor named"
        bad = [i["message"] for i in issues if _internal(i["message"])]
        assert not bad, f"{path}: {bad}"
        if any(f["status"] == "ok" for f in mine):
            out.status[path] = "read"
            out.rows[path] = {form: info["rows"] for f in mine for form, info in f["forms"].items()}
        else:
            codes = {i["code"] for i in issues}
            assert codes & {"file-unreadable", "file-unsupported", "file-legacy-format", "file-duplicate",
                            "netreg-output"}, (path, issues)
            out.status[path] = "unreadable" if "file-unreadable" in codes else "named"
    return out


def children_peak_mb() -> int:
    """Peak RSS of the largest process this one has waited for (the validate runs and their
    workers), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
