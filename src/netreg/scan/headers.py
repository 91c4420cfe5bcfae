"""Which form a row is the header of: every header text of ``model/forms`` as a folded key,
matched exactly or by its longest known beginning; the 类别 two-row header of 附件5."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..model import forms as F

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
    if best is None:
        return None
    _, form, cols, rows_used = best
    if rows_used == 1 and nxt is not None:
        joined = _continues(row, nxt, cols, form)
        if joined is not None:  # 群组类型 / （QQ群、微信群等）: the header typed over two rows
            cols, rows_used = {**cols, **joined}, 2
    return form, cols, rows_used


_BRACKETED_ONLY = re.compile(r"[(（\[【].*[)）\]】]", re.S)


def _continues(row: list, nxt: list, cols: dict[str, int], form: F.Form) -> dict[str, int] | None:
    """When the row below a header finishes its texts, the columns it completes (else None):
    text only, under header cells, each either a bracketed note (（QQ群、微信群等）) or the rest
    of a split header (是否全部 / 实名) that names no other column by itself. A data row never passes:
    its cells are values, not the ends of header words."""
    keymap = _KEYMAPS[form.id]
    at = {ci: key for key, ci in cols.items()}
    filled = [(ci, v) for ci, v in enumerate(nxt) if v is not None and not (isinstance(v, str) and not v.strip())]
    if not filled:
        return None
    added: dict[str, int] = {}
    for ci, v in filled:
        if not isinstance(v, str) or ci >= len(row) or not isinstance(row[ci], str) or not row[ci].strip():
            return None
        text = v.strip()
        if ci in at and _BRACKETED_ONLY.fullmatch(text):
            continue
        key = next((keymap[k] for k in _text_keys(row[ci] + text) if k in keymap), None)  # exactly, never by prefix
        alone = _lookup(_text_keys(text), keymap) if _lookup(_text_keys(text), _ANY_FORM) is not None else None
        if key is None or alone not in (None, key) or (ci in at and key != at[ci]) \
                or (ci not in at and (key in cols or key in added)):
            return None
        if ci not in at:
            added[key] = ci
    return added


def _is_sub_header(row: list, parent: int, form: F.Form) -> bool:
    """The row under a 类别 cell is its sub-header row: text only, and only in the columns
    the upper header spans (its other header cells are merged down over it)."""
    span = sum(1 for c in form.columns if c.parent)
    filled = [ci for ci, v in enumerate(row) if v is not None and not (isinstance(v, str) and not v.strip())]
    return bool(filled) and all(isinstance(row[ci], str) and parent <= ci < parent + span for ci in filled)


def _single_category(form: F.Form, cols: dict[str, int], cells: list[str]) -> int | None:
    """The column of a lone 类别 header (no 职务职称/专业年级 under it), or None."""
    children = [c.key for c in form.columns if c.parent]
    if not children or any(k in cols for k in children):
        return None
    return next((ci for ci, t in enumerate(cells) if t and _is_parent(form, t)), None)


def _is_parent(form: F.Form, text: str) -> bool:
    return any(c.parent and F.header_key(c.parent) == F.header_key(text) for c in form.columns)


_HEADER_UNIT = re.compile(r"[(（\[【]\s*(百|千|k|万|w)\s*(?:人|个|名|位|粉丝)?\s*[)）\]】]")
_UNITS = {"百": 100, "千": 1000, "k": 1000, "万": 10_000, "w": 10_000}


def count_scales(form: F.Form, cols: dict[str, int], cells: list[str], below: list | None) -> dict[str, int]:
    """粉丝数（万）, 粉丝数（千人）: the unit a count column's header (with the header row below
    it, when the header takes two) gives to the numbers typed under it."""
    scales = {}
    for col in form.columns:
        ci = cols.get(col.key)
        if col.kind is not F.Kind.COUNT or ci is None:
            continue
        text = (cells[ci] if ci < len(cells) else "") + (str(below[ci] or "") if below and ci < len(below) else "")
        m = _HEADER_UNIT.search(unicodedata.normalize("NFKC", text).casefold())
        if m:
            scales[col.key] = _UNITS[m[1]]
    return scales
