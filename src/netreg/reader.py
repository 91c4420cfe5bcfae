"""Returned files → located raw rows.

A returned workbook may be our template, a table rebuilt by hand from the notice, a WPS or
LibreOffice save, one workbook with five sheets or five workbooks. Each sheet's form is found
by its header row (``forms.header_keys``), never by sheet name or order. Values are read with
python-calamine (fast); formulas, metadata and sheet parts are read from the zip with
``defusedxml``, so no formula is ever evaluated and no input is ever written.
"""

from __future__ import annotations

import html
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from . import forms as F
from . import zipcheck
from .config import Campaign
from .normalize import clean_text, is_placeholder

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
HEADER_SCAN_ROWS = 30  # a header row is looked for among the first rows of a table region
STRUCTURE = re.compile(
    r"(单位负责人签[名字]\s*[（(]\s*盖章\s*[)）]|单位负责人|填表人联系电话|填表人电话|填表人|联系电话|联系方式"
    r"|联系人|手机号码|手机号|手机|电话|填报单位|报送单位|单位名称|填表日期|填报日期)\s*[:：]?"
)


class Unreadable(Exception):
    """The file cannot be read as a workbook; ``code`` is the issue code to report."""

    def __init__(self, code: str, reason: str, fmt: str = ""):
        super().__init__(reason)
        self.code, self.reason, self.fmt = code, reason, fmt


@dataclass
class RawRow:
    row: int  # Excel row number
    cells: dict[str, object]  # column key -> raw value
    extras: dict[int, object] = field(default_factory=dict)  # 0-based column index -> raw value
    formulas: dict[int, str] = field(default_factory=dict)  # 0-based column index -> formula text


@dataclass
class Table:
    """One form found in one sheet."""

    sheet: str
    form: F.Form
    header_row: int  # Excel row of the (first) header row
    columns: dict[str, int]  # column key -> 0-based column index
    extra_headers: dict[int, str]  # 0-based index -> header text ('' when none)
    rows: list[RawRow] = field(default_factory=list)
    labels: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # 填表人… -> (value, row, col)
    declared_empty: bool = False  # a row says 无
    category_column: int | None = None  # one 类别 column standing for 附件5's two sub-columns

    @property
    def missing(self) -> list[F.Column]:
        return [c for c in self.form.data_columns if c.key not in self.columns]


@dataclass
class Workbook:
    path: Path
    meta: dict[str, str]
    tables: list[Table]
    unit_text: tuple[str, str, int, int] | None  # (text, sheet, row, col) of a 填报单位 label
    unrecognised: list[str]  # sheets with content that is none of the forms
    sheets: list[str] = field(default_factory=list)  # every sheet, in workbook order


def col_letter(index: int) -> str:
    """0-based column index → Excel letter."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# ---------------------------------------------------------------------------- file level

def sniff(path: Path, limits) -> None:
    """Decide the file type by its first bytes, and check sizes before anything is parsed."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise Unreadable("file-unreadable", f"无法打开文件（{exc.strerror or exc}）") from None
    if size == 0:
        raise Unreadable("file-unreadable", "文件是空的（0 字节）")
    if size > limits.max_file_mb * 1024 * 1024:
        raise Unreadable("file-unreadable", f"文件过大（{size / 1048576:.0f} MB，上限 {limits.max_file_mb:g} MB）")
    if head == OLE2_MAGIC:
        data = path.read_bytes()
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            raise Unreadable("file-unreadable", "文件设置了打开密码（已加密），请取消密码后重新保存")
        fmt = "WPS 表格（.et）" if path.suffix.lower() in (".et", ".ett") else "旧版 Excel 97-2003（.xls）"
        raise Unreadable("file-legacy-format", "旧版格式", fmt=fmt)
    if head[:4] != ZIP_MAGIC:
        raise Unreadable("file-unreadable", "这不是 Excel 文件（内容不是 xlsx 格式）")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable("file-unreadable", "文件已损坏（压缩包不完整），请重新保存后发送") from None
    if "xl/workbook.xml" not in names:
        raise Unreadable("file-unreadable", "压缩包里没有 Excel 工作簿（可能是 Word 或其他文件改了扩展名）")
    if total > limits.max_uncompressed_mb * 1024 * 1024 or total / packed > limits.max_compression_ratio:
        raise Unreadable("file-unreadable",
                         f"文件解压后过大（{total / 1048576:.0f} MB），疑似异常文件，已跳过")
    try:  # every part streamed once: no DOCTYPE/ENTITY, sizes as declared, cells within max_cells
        with zipfile.ZipFile(path) as zf:
            zipcheck.check_package(zf, limits.max_cells)
    except zipcheck.Refused as exc:
        raise Unreadable("file-unreadable", str(exc)) from None
    except (zipfile.BadZipFile, OSError):
        raise Unreadable("file-unreadable", "文件已损坏（压缩包内容不完整或校验失败），请重新保存后发送") from None


def _xml(zf: zipfile.ZipFile, name: str):
    from defusedxml import ElementTree

    try:
        return ElementTree.fromstring(zf.read(name))
    except KeyError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → zip part name, from workbook.xml and its relationships."""
    wb = _xml(zf, "xl/workbook.xml")
    rels = _xml(zf, "xl/_rels/workbook.xml.rels")
    if wb is None or rels is None:
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = path
    parts = {}
    for el in wb.iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            if rid in targets:
                parts[el.get("name")] = targets[rid]
    return parts


# In a cell, <f> is the first child (CT_Cell: f, v, is), so a formula cell is an opening tag
# that is not self-closing, directly followed by <f>. Anchoring on that keeps the scan linear
# and never pairs an empty <c r="A5"/> with the next cell's formula.
_FORMULA_CELL = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]+)"[^>]*(?<!/)>\s*'
    rb'<(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)',
    re.S,
)


def _formulas(zf: zipfile.ZipFile, part: str) -> dict[int, dict[int, str]]:
    """0-based row → {0-based col: formula text}, found by scanning the sheet XML (never evaluated)."""
    try:
        data = zf.read(part)
    except KeyError:
        return {}
    if b"<f" not in data and b":f" not in data:
        return {}
    found = {}
    for m in _FORMULA_CELL.finditer(data):
        letters, row, _attrs, text = m.groups()
        col = 0
        for ch in letters.decode():
            col = col * 26 + ord(ch) - 64
        formula = html.unescape(text.decode("utf-8", "replace")) if text else ""
        found.setdefault(int(row) - 1, {})[col - 1] = "=" + formula if formula else "=（共享公式）"
    return found


def _custom_props(zf: zipfile.ZipFile) -> dict[str, str]:
    root = _xml(zf, "docProps/custom.xml")
    if root is None:
        return {}
    props = {}
    for prop in root:
        name = prop.get("name", "")
        if name.startswith(F.META_PREFIX):
            props[name[len(F.META_PREFIX):]] = "".join(prop.itertext()).strip()
    return props


def read_workbook(path: Path, config: Campaign) -> Workbook:
    """Read one returned file. Raises ``Unreadable`` with a Chinese reason."""
    from python_calamine import CalamineWorkbook

    sniff(path, config.limits)
    try:
        with zipfile.ZipFile(path) as zf:
            parts = _sheet_parts(zf)
            meta = _custom_props(zf)
            formulas = {name: _formulas(zf, part) for name, part in parts.items()}
    except Exception as exc:  # defusedxml refusals, broken XML, broken zip members
        raise Unreadable("file-unreadable", f"文件内部结构损坏或含有不安全内容（{type(exc).__name__}）") from None
    try:
        # By content: calamine's from_path picks the format by extension, and an .xlsx saved
        # under an .xls name (sniff has already checked it is a zip) must still be read.
        with path.open("rb") as fh:
            book = CalamineWorkbook.from_filelike(fh)
        names = book.sheet_names
        tables: list[Table] = []
        unrecognised: list[str] = []
        unit_text = None
        for name in names:
            sheet = book.get_sheet_by_name(name)
            if sheet.height * max(sheet.width, 1) > config.limits.max_cells:
                raise Unreadable("file-unreadable",
                                 f"工作表“{name}”过大（{sheet.height} 行 × {sheet.width} 列），请删除多余的空行空列")
            grid = sheet.to_python(skip_empty_area=False)
            if name == F.META_SHEET:
                for r in grid:
                    if len(r) >= 2 and r[0]:
                        meta.setdefault(str(r[0]).strip(), clean_text(r[1]))
                continue
            found, text = scan_sheet(name, grid, formulas.get(name, {}), sheet.merged_cell_ranges or ())
            tables.extend(found)
            unit_text = unit_text or text
            if not found and any(clean_text(v) for r in grid for v in r):
                unrecognised.append(name)
    except Unreadable:
        raise
    except BaseException as exc:
        kind = type(exc).__name__
        if not isinstance(exc, Exception) and kind != "PanicException":  # a Rust panic in calamine
            raise  # is a BaseException (pyo3); KeyboardInterrupt and SystemExit are not ours
        reason = "文件设置了打开密码（已加密），请取消密码后重新保存" if kind == "PasswordError" else \
            f"文件内容损坏，无法解析（{kind}）"
        raise Unreadable("file-unreadable", reason) from None
    return Workbook(path, meta, tables, unit_text, unrecognised, list(names))


# ---------------------------------------------------------------------------- sheet level

_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_PUNCT = re.compile(r"[/、,，.。·・\-_—|\\]")


def _fold(key: str) -> str:
    """A header key as typed by hand: any case (账号id), without separators (职务/职称)."""
    return _PUNCT.sub("", key.casefold())


def _keymaps() -> dict[int, dict[str, str]]:
    maps = {}
    for form in F.FORMS:
        m: dict[str, str] = {}
        for col in form.columns:
            for k in F.header_keys(col):
                m.setdefault(_fold(k), col.key)
        maps[form.id] = m
    return maps


_KEYMAPS = _keymaps()
_ANY_FORM = {k: "" for m in _KEYMAPS.values() for k in m}  # every key of every form
_LONGEST = max(len(k) for k in _ANY_FORM)
_PARENTS = {form.id: {_fold(F.header_key(c.parent)) for c in form.columns if c.parent} for form in F.FORMS}


_KEY_STARTS = frozenset(k[0] for k in _ANY_FORM)
_FOLDED_AWAY = frozenset("*:：/、,，.。·・-_—|\\")  # removed by header_key and _fold
_OPENERS = frozenset("(（[【")  # a bracketed part is dropped from the second key


def _may_name_column(text: str) -> bool:
    """False when ``text`` surely names no column of any form: its key would begin with an
    ASCII character or a CJK ideograph (both unchanged by NFKC and casefold) that begins no
    header key. Anything else (full-width, compatibility characters, brackets) is let through
    to the full test. Most data cells stop here, which keeps the header test off the per-row
    cost (``tests/test_fast_paths.py`` checks it never rejects what ``_lookup`` would match)."""
    for ch in text:
        if ch in _FOLDED_AWAY or ch.isspace():
            continue
        if ch in _KEY_STARTS or ch in _OPENERS:
            return True
        if ch.isascii():
            return ch.lower() in _KEY_STARTS
        return not ("\u4e00" <= ch <= "\u9fff")
    return False


def _names_any_column(value: object) -> bool:
    return isinstance(value, str) and _may_name_column(value) and _lookup(_text_keys(value), _ANY_FORM) is not None


def _cell_keys(value: object) -> tuple[str, ...]:
    return _text_keys(value) if isinstance(value, str) else ()


@lru_cache(maxsize=65536)  # the header test runs on every row: data texts repeat a lot
def _text_keys(text: str) -> tuple[str, ...]:
    k = F.header_key(text)
    return tuple(dict.fromkeys(_fold(x) for x in (k, _BRACKETED.sub("", k)) if x))


def _lookup(keys: tuple[str, ...], keymap: dict[str, str]) -> str | None:
    """The column a cell names: exactly, else by its longest known beginning of 4+ characters
    (网站名称及网址, 管理员姓名（教职工）)."""
    for k in keys:
        if k in keymap:
            return keymap[k]
    if keys:
        k = keys[-1]
        for n in range(min(len(k) - 1, _LONGEST), 3, -1):
            if k[:n] in keymap:
                return keymap[k[:n]]
    return None


def _match_row(row: list[tuple], nxt: list[tuple] | None, form: F.Form) -> dict[str, int]:
    """Columns of ``form`` named in this row (and, for a two-row header, the row below);
    rows are given as the ``_cell_keys`` of their cells."""
    keymap = _KEYMAPS[form.id]
    found: dict[str, int] = {}
    for ci, keys in enumerate(row):
        for cell in (keys, nxt[ci] if nxt is not None and ci < len(nxt) else ()):
            key = _lookup(cell, keymap)
            if key and key not in found:
                found[key] = ci
                break
    return found


def detect_header(row: list, nxt: list | None) -> tuple[F.Form, dict[str, int], int] | None:
    """The form whose header this row is, its columns, and how many header rows it uses."""
    # Cheap tests first, as most rows are data: a header row holds text only (a number, date
    # or 是/否 checkbox value means data), and at least three of its cells name columns.
    if any(v is not None and not isinstance(v, str) for v in row) or \
            sum(1 for v in row if _names_any_column(v)) < 3:
        return None
    keys = [_cell_keys(v) for v in row]
    below = [_cell_keys(v) for v in nxt] if nxt is not None else None
    best = None
    for form in F.FORMS:
        # The row must be a header by itself; the row below only adds sub-headers (附件5 类别).
        one = _match_row(keys, None, form)
        n = len(form.data_columns)
        if len(one.keys() - {"seq"}) < max(3, n / 2):
            continue
        two = _match_row(keys, below, form) if below is not None and form.header_rows == 2 else one
        # The upper header (类别) announces a second header row even when its sub-headers are
        # typed beyond recognition, provided that row looks like one: text only under 类别.
        # Otherwise 类别 is a single column and the row below is data (never swallowed).
        parent = next((ci for ci, ks in enumerate(keys) if any(k in _PARENTS[form.id] for k in ks)), None)
        sub = nxt is not None and parent is not None and _is_sub_header(nxt, parent, form)
        cols, rows_used = (two, 2) if len(two) > len(one) or sub else (one, 1)
        data = [c for c in cols if c != "seq"]
        score = (len(data) / n, len(data))
        if best is None or score > best[0]:
            best = (score, form, cols, rows_used)
    return None if best is None else (best[1], best[2], best[3])


def _is_sub_header(row: list, parent: int, form: F.Form) -> bool:
    """The row under a 类别 cell is its sub-header row: text only, and only in the columns
    the upper header spans (its other header cells are merged down over it)."""
    span = sum(1 for c in form.columns if c.parent)
    filled = [ci for ci, v in enumerate(row) if v is not None and not (isinstance(v, str) and not v.strip())]
    return bool(filled) and all(isinstance(row[ci], str) and parent <= ci < parent + span for ci in filled)


def _is_structure(cells: list[str], table: Table | None = None) -> bool:
    """A preamble/footer line: 附件N, a form title, the signature line, a 注： footnote.

    Inside a table (``table`` given) nothing typed may be dropped, so a line counts only when
    it opens at the table's left edge and every filled cell is explained: a label opening
    the cell (填表人：…), the value right after a label, or, first, 附件N / a title / 注：….
    A data row (序号 first, or a value that merely mentions 联系电话：) is never structure."""
    filled = [(ci, c) for ci, c in enumerate(cells) if c]
    if not filled or len(filled) > 6:
        return False
    if table is None:
        joined = "".join(c for _, c in filled)
        return bool(STRUCTURE.search(joined)) or (len(filled) <= 2 and _is_heading(filled[0][1]))
    if filled[0][0] > min(table.columns.values(), default=0):
        return False
    expect_value = False
    for n, (_ci, text) in enumerate(filled):
        labels = list(STRUCTURE.finditer(text))
        if labels and labels[0].start() == 0:
            expect_value = not text[labels[-1].end():].strip()
        elif expect_value or (n == 0 and _is_heading(text)):
            expect_value = False
        else:
            return False
    return True


def _is_heading(text: str) -> bool:
    """附件N, a form title or a 注： footnote."""
    return bool(re.fullmatch(r"附件\s*\d(\s*[:：].*)?", text)) or any(f.name in text for f in F.FORMS) \
        or text.startswith(("注：", "注:"))


def _labels(cells: list[str], row: int, merged: dict[int, int] | None = None) -> dict[str, tuple[str, int, int]]:
    """Values after 填表人：, 填表人电话：, 填报单位： … in one structure row: (value, row, 0-based
    column of the value, or of the cell to type it in when empty). ``merged`` maps the first
    column of a merged range on this row to its last column."""
    merged = merged or {}
    parts: list[tuple[int, int, int]] = []  # (col, start, end) of each cell within the joined text
    joined = ""
    for ci, c in enumerate(cells):
        if c:
            start = len(joined)
            joined += c + " "
            parts.append((ci, start, len(joined)))
    found = {}
    matches = list(STRUCTURE.finditer(joined))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(joined)
        value = joined[m.end():end].strip()
        label = re.sub(r"\s", "", m.group(1))
        label = "单位负责人" if label.startswith("单位负责人") else label
        ci, _s, cell_end = next(p for p in parts if p[1] <= m.start() < p[2])
        if value:  # the cell where the value starts
            pos = m.end() + (len(joined[m.end():end]) - len(joined[m.end():end].lstrip()))
            col = next((c for c, s, e in parts if s <= pos < e), parts[-1][0])
        elif end < cell_end:  # another label follows in the same cell: the value goes in here
            col = ci
        else:  # the label ends its cell: the input cell is the next one (after a merged label)
            col = merged.get(ci, ci) + 1
        found.setdefault(label, (value, row, col))
    return found


def _ranges(ranges):
    """(first row, first column, last row, last column) of each well-formed merged range."""
    for rng in ranges or ():
        try:
            (r0, c0), (r1, c1) = rng
        except (TypeError, ValueError):
            continue
        yield r0, c0, r1, c1


def _merged_by_row(ranges) -> dict[int, dict[int, int]]:
    """0-based row → {first column: last column} of the merged ranges that start on that row."""
    by_row: dict[int, dict[int, int]] = {}
    for r0, c0, _r1, c1 in _ranges(ranges):
        by_row.setdefault(r0, {})[c0] = c1
    return by_row


def _merged_below(ranges, height: int) -> dict[int, dict[int, tuple[int, int]]]:
    """0-based row → {column: (row, column) of the range's top-left cell} for the rows a
    merged range covers below its first (its first column only: a cell merged across
    columns is one value, not several). Bounded by the sheet's rows, and in all by a budget
    of cells, whatever a hostile file declares."""
    below: dict[int, dict[int, tuple[int, int]]] = {}
    budget = 4 * height + 100_000
    for r0, c0, r1, _c1 in _ranges(ranges):
        for r in range(r0 + 1, min(r1, height - 1) + 1):
            below.setdefault(r, {})[c0] = (r0, c0)
            budget -= 1
            if budget <= 0:
                return below
    return below


def _column_numbers(row: list) -> bool:
    """A row numbering the columns, 1 2 3 … left to right (every filled cell, at least 3)."""
    filled = [v for v in row if v is not None and not (isinstance(v, str) and not v.strip())]
    try:
        numbers = [int(float(str(v).strip())) for v in filled if not isinstance(v, bool)]
    except (ValueError, OverflowError):  # text, or "inf" / "1e999"
        return False
    return len(filled) >= 3 and len(numbers) == len(filled) and numbers == list(range(1, len(numbers) + 1))


_TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "合计数", "总数", "汇总"})


def _totals(row: list, cells: list[str], row_formulas: dict | None) -> bool:
    """合计 (总计, 小计…) first, then only numbers or formulas: a totals row."""
    filled = [ci for ci, c in enumerate(cells) if c]
    if not filled or re.sub(r"[\s:：]", "", cells[filled[0]]) not in _TOTAL_WORDS:
        return False
    rest = [ci for ci in filled[1:] if not (row_formulas and ci in row_formulas)]
    return all(isinstance(row[ci], (int, float)) and not isinstance(row[ci], bool) for ci in rest)


def _typed(table: Table, cells: list[str], row_formulas: dict | None) -> bool:
    """Something typed in this row besides 序号: a merged value alone makes no data row (a
    range merged on past the last account, or over the template's numbered blank rows)."""
    seq = table.columns.get("seq")
    return bool(row_formulas) or any(c for ci, c in enumerate(cells) if c and ci != seq)


def _fill_merged(grid: list[list], formulas: dict, row: list, cells: list[str], covered: dict, data_from: int):
    """A data cell covered by a merged range shows the range's value (李娜 merged over the three
    accounts she manages): each row gets it, when the range starts among the table's data rows."""
    row, cells = list(row), list(cells)
    for c, (r0, c0) in covered.items():
        if r0 >= data_from and c < len(row) and not cells[c] and c0 < len(grid[r0]):
            row[c] = formulas.get(r0, {}).get(c0, grid[r0][c0])
            cells[c] = clean_text(row[c])
    return row, cells


def scan_sheet(name: str, grid: list[list], formulas: dict[int, dict[int, str]], merged_ranges=()):
    """Find every form table in a sheet; return (tables, 填报单位 text location or None)."""
    tables: list[Table] = []
    unit_text = None
    pending_labels: dict[str, tuple[str, int, int]] = {}
    current: Table | None = None
    skip_until = -1
    merged = _merged_by_row(merged_ranges)
    below = _merged_below(merged_ranges, len(grid))
    data_from = 0  # first data row (0-based) of the current table
    for ri, row in enumerate(grid):
        if ri <= skip_until:
            continue
        cells = [clean_text(v) for v in row]
        if not any(cells) and not formulas.get(ri):
            continue
        nxt = grid[ri + 1] if ri + 1 < len(grid) else None
        header = detect_header(row, nxt)
        if header:
            form, cols, used = header
            category = _single_category(form, cols, cells) if used == 1 else None
            if category is not None:
                cols = {**cols, **{c.key: category for c in form.columns if c.parent}}
            extra = {ci: t for ci, t in enumerate(cells)
                     if t and ci not in cols.values() and not (used == 2 and _is_parent(form, t))}
            if used == 2 and nxt is not None:
                for ci, v in enumerate(nxt):
                    t = clean_text(v)
                    if t and ci not in cols.values() and ci not in extra:
                        extra[ci] = t
            current = Table(name, form, ri + 1, cols, extra, labels=dict(pending_labels), category_column=category)
            pending_labels = {}
            tables.append(current)
            skip_until = ri + used - 1
            data_from = ri + used
            continue
        if not formulas.get(ri) and _is_structure(cells, current):
            labels = _labels(cells, ri + 1, merged.get(ri))
            for key in ("填报单位", "报送单位", "单位名称"):
                if key in labels and labels[key][0] and unit_text is None:
                    unit_text = (labels[key][0], name, labels[key][1], labels[key][2])
            target = current.labels if current is not None and _belongs_below(current, labels) else pending_labels
            for k, v in labels.items():
                target.setdefault(k, v)
            continue
        if current is None:
            continue
        if ri == data_from and _column_numbers(row):
            continue  # 1 2 3 … under the header: the columns' numbers (栏次), not data
        if _totals(row, cells, formulas.get(ri)):
            continue  # 合计 | | 15000: a sum of the rows above, not a row to register
        if ri in below and _typed(current, cells, formulas.get(ri)):
            row, cells = _fill_merged(grid, formulas, row, cells, below[ri], data_from)
        _add_row(current, row, cells, ri, formulas)
    return tables, unit_text


def _single_category(form: F.Form, cols: dict[str, int], cells: list[str]) -> int | None:
    """The column of a lone 类别 header (no 职务职称/专业年级 under it), or None."""
    children = [c.key for c in form.columns if c.parent]
    if not children or any(k in cols for k in children):
        return None
    return next((ci for ci, t in enumerate(cells) if t and _is_parent(form, t)), None)


_STUDENT = re.compile(r"学生|本科|专科|研究生|硕士生|博士生|\d{2,4}\s*级|年级|届|班")


def _category_values(value: object) -> tuple[object, object]:
    """(职务职称, 专业年级) for what a lone 类别 cell says: 护理2023级 or 学生 is a student's,
    anything else (副教授, 辅导员, 教师) a teacher's. The value itself is kept as typed."""
    text = clean_text(value)
    if not text:
        return None, None
    return (None, value) if _STUDENT.search(text) else (value, None)


def _is_parent(form: F.Form, text: str) -> bool:
    return any(c.parent and F.header_key(c.parent) == F.header_key(text) for c in form.columns)


def _belongs_below(table: Table, labels: dict) -> bool:
    """A signature line below a table belongs to it unless that table already has one."""
    return any(k in labels for k in ("填表人", "联系人")) and not any(k in table.labels for k in ("填表人", "联系人"))


_DECLARED = re.compile(
    r"(本单位|本部门|我单位|我部门|本院|我院|该单位)?(目前|暂时?|尚|现)?(无|没有)"
    r"(此类|相关|该类|此项|需要?登记的?|需要?填报的?|需要?清理的?)?"
    r"(情况|内容|网站|网站平台|新媒体|新媒体平台|账号|平台|群|群组|工作群|僵尸群|数据|信息|人员|网络大V|大V)?"
)


def _says_nothing(text: str) -> bool:
    """无, 暂无, 本单位暂无此类情况…: a row saying there is nothing to register."""
    if is_placeholder(text):
        return True
    key = re.sub(r"[\s。.！!；;，,“”\"]", "", unicodedata.normalize("NFKC", text))
    return bool(key) and len(key) <= 30 and _DECLARED.fullmatch(key) is not None


def _add_row(table: Table, row: list, cells: list[str], ri: int, formulas: dict) -> None:
    used = set(table.columns.values())
    seq = table.columns.get("seq")
    # A 序号 computed by a formula (=ROW()-4) is no data: 序号 is ignored and renumbered.
    row_formulas = {ci: f for ci, f in formulas.get(ri, {}).items() if ci != seq}
    data_cells = sorted({ci for ci, c in enumerate(cells) if c and ci != seq} | row_formulas.keys())
    if not data_cells:  # blank, or only a 序号; "无" written in the 序号 cell (often merged across)
        if seq is not None and seq < len(cells) and _says_nothing(cells[seq]):
            table.declared_empty = True
        return
    if all(_says_nothing(cells[ci]) for ci in data_cells) and not row_formulas:
        table.declared_empty = True
        return

    def raw(ci: int) -> object:
        return row_formulas.get(ci, row[ci] if ci < len(row) else None)

    values = {key: raw(ci) for key, ci in table.columns.items() if ci < len(row) or ci in row_formulas}
    if table.category_column is not None:
        values["title"], values["major"] = _category_values(raw(table.category_column))
    extras = {ci: raw(ci) for ci in data_cells if ci not in used}
    table.rows.append(RawRow(ri + 1, values, extras, row_formulas))
