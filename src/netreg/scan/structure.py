"""Lines around and inside a table that are not data: 附件N, a form title, the signature line
(填表人：… 填表人电话：…), 填报单位：…, a 注： footnote, the columns' numbers (栏次), a 合计 row,
and the ways people write that there is nothing to register (无, 本单位暂无此类情况)."""

from __future__ import annotations

import re
import unicodedata

from ..model import forms as F
from ..util.text import is_placeholder

STRUCTURE = re.compile(
    r"(单位负责人签[名字]\s*[（(]\s*盖章\s*[)）]|单位负责人|填表人联系电话|填表人电话|填表人|联系电话|联系方式"
    r"|联系人|手机号码|手机号|手机|电话|填报单位|报送单位|单位名称|填表日期|填报日期)\s*[:：]?"
)


def _is_structure(cells: list[str], columns: dict[str, int] | None = None) -> bool:
    """A preamble/footer line: 附件N, a form title, the signature line, a 注： footnote.

    Inside a table (its ``columns`` given) nothing typed may be dropped, so a line counts only when
    it opens at the table's left edge and every filled cell is explained: a label opening
    the cell (填表人：…), the value right after a label, or, first, 附件N / a title / 注：….
    A data row (序号 first, or a value that merely mentions 联系电话：) is never structure."""
    filled = [(ci, c) for ci, c in enumerate(cells) if c]
    if not filled or len(filled) > 6:
        return False
    if columns is None:
        joined = "".join(c for _, c in filled)
        return bool(STRUCTURE.search(joined)) or (len(filled) <= 2 and _is_heading(filled[0][1]))
    if filled[0][0] > min(columns.values(), default=0):
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


def names_a_form(text: str) -> bool:
    """附件N or a form title."""
    return bool(re.fullmatch(r"附件\s*\d(\s*[:：].*)?", text)) or any(f.name in text for f in F.FORMS)


def _is_heading(text: str) -> bool:
    """附件N, a form title or a 注： footnote."""
    return names_a_form(text) or text.startswith(("注：", "注:"))


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


def _column_numbers(row: list) -> bool:
    """A row numbering the columns, 1 2 3 … left to right (every filled cell, at least 3)."""
    filled = [v for v in row if v is not None and not (isinstance(v, str) and not v.strip())]
    try:
        numbers = [int(float(str(v).strip())) for v in filled if not isinstance(v, bool)]
    except (ValueError, OverflowError):  # text, or "inf" / "1e999"
        return False
    return len(filled) >= 3 and len(numbers) == len(filled) and numbers == list(range(1, len(numbers) + 1))


_TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "合计数", "总数", "汇总"})
_TOTAL_STARTS = frozenset(w[0] for w in _TOTAL_WORDS)
_SPACE_COLON = re.compile(r"[\s:：]")


def _may_be_total(text: str) -> bool:
    """False when ``text`` without spaces and colons surely opens no total word (合计, 总计…):
    its first other character opens none. Most rows stop here."""
    for ch in text:
        if not (ch.isspace() or ch in ":："):
            return ch in _TOTAL_STARTS
    return True


def _totals(row: list, cells: list[str], row_formulas: dict | None) -> bool:
    """合计 (总计, 小计…) first, then only numbers or formulas: a totals row."""
    filled = [ci for ci, c in enumerate(cells) if c]
    if not filled or not _may_be_total(cells[filled[0]]) or _SPACE_COLON.sub("", cells[filled[0]]) not in _TOTAL_WORDS:
        return False
    rest = [ci for ci in filled[1:] if not (row_formulas and ci in row_formulas)]
    return all(isinstance(row[ci], (int, float)) and not isinstance(row[ci], bool) for ci in rest)


def _belongs_below(table_labels: dict, labels: dict) -> bool:
    """A signature line below a table belongs to it unless that table already has one."""
    return any(k in labels for k in ("填表人", "联系人")) and not any(k in table_labels for k in ("填表人", "联系人"))


_DECLARED = re.compile(
    r"(本单位|本部门|我单位|我部门|本院|我院|该单位)?(目前|暂时?|尚|现)?(无|没有)"
    r"(此类|相关|该类|此项|需要?登记的?|需要?填报的?|需要?清理的?)?"
    r"(情况|内容|网站|网站平台|新媒体|新媒体平台|账号|平台|群|群组|工作群|僵尸群|数据|信息|人员|网络大V|大V)?"
)


# What a text saying "nothing here" can open with: a word of _DECLARED, or a filler (无, 暂无,
# 没有, 空, n/a, none, null, nil, na; a rule of dashes or slashes opens with neither kind below).
_NOTHING_STARTS = frozenset("本我该目暂尚现无没空nN")


def _may_say_nothing(text: str) -> bool:
    """False when ``_says_nothing(text)`` is surely False, by its first character alone: an
    ASCII letter or digit, or a CJK ideograph (both unchanged by NFKC, casefold for CJK, and
    never removed before the match), that opens no filler and no _DECLARED phrase. Anything
    else goes to the full test (``tests/test_fast_paths.py`` checks they agree)."""
    if not text:
        return True
    ch = text[0]
    if ch in _NOTHING_STARTS:
        return True
    if ch.isascii():
        return not ch.isalnum()
    return not ("\u4e00" <= ch <= "\u9fff")


def _says_nothing(text: str) -> bool:
    """无, 暂无, 本单位暂无此类情况…: a row saying there is nothing to register."""
    if is_placeholder(text):
        return True
    key = re.sub(r"[\s。.！!；;，,“”\"]", "", unicodedata.normalize("NFKC", text))
    return bool(key) and len(key) <= 30 and _DECLARED.fullmatch(key) is not None
