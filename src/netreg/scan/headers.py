"""Which form a row is the header of: every header text of ``model/forms`` as a folded key,
matched exactly or by its longest known beginning; the 类别 two-row header of 附件5."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from ..model import forms as F
from ..util.memo import Remembered

_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_PUNCT = re.compile(r"[/、,，.。·・\-_—|\\]")


def _fold(key: str) -> str:
    """A header key as typed by hand: any case (账号id), without separators (职务/职称)."""
    return _PUNCT.sub("", key.casefold())


@lru_cache(maxsize=65536)  # the header test runs on every row: data texts repeat a lot
def _text_keys(text: str) -> tuple[str, ...]:
    k = F.header_key(text)
    return tuple(dict.fromkeys(_fold(x) for x in (k, _BRACKETED.sub("", k)) if x))


def _keymaps(extra: tuple = ()) -> dict[int, dict[str, str]]:
    """Per form: folded header key → column key. ``extra``: the campaign's own wordings
    (netreg.toml [headers]) as (form id, typed text, column key); they win over built-ins."""
    maps = {}
    for form in F.FORMS:
        m: dict[str, str] = {}
        for col in form.columns:
            for k in F.header_keys(col):
                m.setdefault(_fold(k), col.key)
        maps[form.id] = m
    for form_id, typed, key in extra:
        for k in _text_keys(typed):
            maps[form_id][k] = key
    return maps


@lru_cache(maxsize=64)
def _ambiguous(form_id: int) -> dict[str, tuple[str, ...]]:
    return {k: keys for text, keys in F.FORMS_BY_ID[form_id].ambiguous for k in _text_keys(text)}


_GENERIC = frozenset(k for t in F.GENERIC_HEADERS for k in (_fold(F.header_key(t)),))


HEADERS_SEEN_MAX = 4096  # header row pairs a vocabulary remembers


class Vocabulary:
    """Every header text the scanner knows: the forms' own (model/forms) and the campaign's
    (netreg.toml [headers]). One per set of [headers] wordings (``vocabulary``)."""

    def __init__(self, extra: tuple = ()):
        self.extra = extra
        self.keymaps = _keymaps(extra)
        for form in F.FORMS:  # an ambiguous text names a column too (for the 3-cell test)
            for k, keys in _ambiguous(form.id).items():
                self.keymaps[form.id].setdefault(k, keys[0])
        self.any_form = {k: "" for m in self.keymaps.values() for k in m}
        self.longest = max(len(k) for k in self.any_form)
        self.starts = frozenset(k[0] for k in self.any_form)
        # typed by the coordinator: distinctive even when short, unless generic
        self.declared = frozenset(k for _, typed, _ in extra for k in _text_keys(typed))
        # detect_header's answers by the two rows' values
        self.headers_seen = Remembered(lambda rows: _detect(rows[0], rows[1], self), HEADERS_SEEN_MAX)


@lru_cache(maxsize=16)
def vocabulary(extra: tuple = ()) -> Vocabulary:
    return Vocabulary(extra)


def header_words(headers: dict | None) -> tuple:
    """netreg.toml [headers] ({粉丝关注量: 粉丝数量, 附件5: {…}}) as (form id, typed,
    column key) for every form the target names a column of (``F.header_targets``)."""
    out = []
    for typed, target in (headers or {}).items():
        if isinstance(target, dict):
            form_id = F.form_id_of(typed)
            out += [(fid, t, key) for t, tg in target.items() for fid, key in F.header_targets(tg, form_id)]
        else:
            out += [(fid, typed, key) for fid, key in F.header_targets(target)]
    return tuple(out)


_DEFAULT = vocabulary()
_KEYMAPS = _DEFAULT.keymaps
_ANY_FORM = _DEFAULT.any_form  # every key of every form
_LONGEST = _DEFAULT.longest
_PARENTS = {form.id: {_fold(F.header_key(c.parent)) for c in form.columns if c.parent} for form in F.FORMS}


_KEY_STARTS = _DEFAULT.starts
_FOLDED_AWAY = frozenset("*:：/、,，.。·・-_—|\\")  # removed by header_key and _fold
_OPENERS = frozenset("(（[【")  # a bracketed part is dropped from the second key


def _may_name_column(text: str, starts: frozenset = _KEY_STARTS) -> bool:
    """False when ``text`` surely names no column of any form: its key would begin with an
    ASCII character or a CJK ideograph (both unchanged by NFKC and casefold) that begins no
    header key. Anything else (full-width, compatibility characters, brackets) is let through
    to the full test. Most data cells stop here, which keeps the header test off the per-row
    cost (``tests/test_fast_paths.py`` checks it never rejects what ``_lookup`` would match)."""
    for ch in text:
        if ch in _FOLDED_AWAY or ch.isspace():
            continue
        if ch in starts or ch in _OPENERS:
            return True
        if ch.isascii():
            return ch.lower() in starts
        return not ("\u4e00" <= ch <= "\u9fff")
    return False


def _names_any_column(value: object, vocab: Vocabulary = _DEFAULT) -> bool:
    return isinstance(value, str) and _may_name_column(value, vocab.starts) and \
        _lookup(_text_keys(value), vocab.any_form, vocab.longest) is not None


def _cell_keys(value: object) -> tuple[str, ...]:
    return _text_keys(value) if isinstance(value, str) else ()


def _lookup(keys: tuple[str, ...], keymap: dict[str, str], longest: int = _LONGEST) -> str | None:
    """The column a cell names: exactly, else by its longest known beginning of 4+ characters
    (网站名称及网址, 管理员姓名（教职工）). When what follows that beginning names a column
    by itself, the header is that column of the subject it begins with (网站负责人联系电话 is
    a phone, not a second 网站负责人): one header never takes another's column by a shared
    beginning."""
    found = _matched(keys, keymap, longest)
    return None if found is None else found[0]


def _matched(keys: tuple[str, ...], keymap: dict[str, str], longest: int = _LONGEST) -> tuple[str, str] | None:
    """(column, the key that named it) for ``_lookup``."""
    for k in keys:
        if k in keymap:
            return keymap[k], k
    if keys:
        k = keys[-1]
        for n in range(min(len(k) - 1, longest), 3, -1):
            if k[:n] in keymap:
                rest = k[n:]
                for m in range(len(rest), 1, -1):
                    if rest[:m] in keymap and keymap[rest[:m]] != keymap[k[:n]]:
                        return keymap[rest[:m]], rest[:m]
                return keymap[k[:n]], k[:n]
    return None


def _match_row(row: list[tuple], nxt: list[tuple] | None, form: F.Form,
               vocab: Vocabulary = _DEFAULT, strong: set | None = None) -> dict[str, int]:
    """Columns of ``form`` named in this row (and, for a two-row header, the row below);
    rows are given as the ``_cell_keys`` of their cells. ``strong`` collects the columns named
    by a distinctive (not generic) header text. A text that may name several columns
    (平台名称) takes the first of them no other header of the row names."""
    keymap = vocab.keymaps[form.id]
    ambiguous = _ambiguous(form.id)
    found: dict[str, int] = {}
    later: list[tuple[int, tuple[str, ...], str]] = []
    for ci, keys in enumerate(row):
        for cell in (keys, nxt[ci] if nxt is not None and ci < len(nxt) else ()):
            hit = _matched(cell, keymap, vocab.longest)
            if hit is None:
                continue
            key, by = hit
            if by in ambiguous:
                later.append((ci, ambiguous[by], by))
                break
            if key not in found:
                found[key] = ci
                if strong is not None and (by not in _GENERIC or by in vocab.declared):
                    strong.add(key)
                break
    for ci, keys, by in later:
        key = next((k for k in keys if k not in found), None)
        if key is not None:
            found[key] = ci
            if strong is not None:
                strong.add(key)
    return found


class Header(NamedTuple):
    """A header row: its form, the columns it names, how many rows it takes, and whether it
    is a near miss: two or more of the form's distinctive columns, too few to read it as that
    form (header-mismatch names what it could not place)."""

    form: F.Form
    columns: dict[str, int]
    rows: int
    near_miss: bool = False


def _lone_category(form: F.Form, keys: list[tuple]) -> bool:
    split = form.category
    if split is None:
        return False
    lone = {k for t in (split.parent, *split.lone) for k in _text_keys(t)}
    return any(k in lone for ks in keys for k in ks)


def detect_header(row: list, nxt: list | None, vocab: Vocabulary = _DEFAULT) -> Header | None:
    """The form whose header this row is, its columns, and how many header rows it uses.

    A form is chosen by its distinctive columns: generic ones (序号, 联系电话, 负责人, 管理员,
    备注, 单位) count towards reading a table but never decide which form it is. A row naming
    two or more of a form's distinctive columns but too few columns to be read as it is a
    near miss (``Header.near_miss``)."""
    # Cheap tests first, as most rows are data: a header row holds text only (a number, date
    # or 是/否 checkbox value means data), and at least three of its cells name columns.
    if any(v is not None and not isinstance(v, str) for v in row) or \
            sum(1 for v in row if _names_any_column(v, vocab)) < 3:
        return None
    # Every return of a campaign's template has the same header rows: the answer is remembered
    # by the two rows' texts (``tests/test_merge_fast.py`` compares it with ``_detect``).
    try:
        found = vocab.headers_seen[tuple(row), tuple(nxt) if nxt is not None else None]
    except TypeError:  # an unhashable value in the row below: not remembered
        return _detect(row, nxt, vocab)
    return None if found is None else found._replace(columns=dict(found.columns))



def _detect(row: list, nxt: list | None, vocab: Vocabulary = _DEFAULT) -> Header | None:
    """``detect_header`` past its cheap tests, never remembered."""
    keys = [_cell_keys(v) for v in row]
    below = [_cell_keys(v) for v in nxt] if nxt is not None else None
    best = None
    near = None
    for form in F.FORMS:
        # The row must be a header by itself; the row below only adds sub-headers (附件5 类别).
        strong: set[str] = set()
        one = _match_row(keys, None, form, vocab, strong)
        n = len(form.data_columns)
        lone = _lone_category(form, keys)  # 类别 / 身份: one column for 附件5's two
        data = len(one.keys() - {"seq"}) + lone
        distinctive = len(strong) + lone
        if distinctive < 2 or data < 3:
            if distinctive >= 1 and data >= max(3, n / 2) and len(strong - {"phone"}) >= 1 \
                    and _all_named(keys, form, vocab):
                pass  # every header cell is this form's: read it, distinctive or not
            else:
                continue
        if data < max(3, n / 2):
            score = (distinctive, data / n)
            if near is None or score > near[0]:
                near = (score, form, one)
            continue
        two = _match_row(keys, below, form, vocab) if below is not None and form.header_rows == 2 else one
        # The upper header (类别) announces a second header row even when its sub-headers are
        # typed beyond recognition, provided that row looks like one: text only under 类别.
        # Otherwise 类别 is a single column and the row below is data (never swallowed).
        parent = next((ci for ci, ks in enumerate(keys) if any(k in _PARENTS[form.id] for k in ks)), None)
        sub = nxt is not None and parent is not None and _is_sub_header(nxt, parent, form)
        cols, rows_used = (two, 2) if len(two) > len(one) or sub else (one, 1)
        data = len([c for c in cols if c != "seq"]) + lone
        score = (data / n, distinctive, data)
        if best is None or score > best[0]:
            best = (score, form, cols, rows_used)
    if best is None:
        if near is None:
            return None
        _, form, cols = near
        return Header(form, cols, 1, True)
    _, form, cols, rows_used = best
    if rows_used == 1 and nxt is not None:
        joined = _continues(row, nxt, cols, form, vocab)
        if joined is not None:  # 群组类型 / （QQ群、微信群等）: the header typed over two rows
            cols, rows_used = {**cols, **joined}, 2
    return Header(form, cols, rows_used)


def _all_named(keys: list[tuple], form: F.Form, vocab: Vocabulary) -> bool:
    """Every filled header cell names a column of ``form``."""
    keymap = vocab.keymaps[form.id]
    return all(_lookup(ks, keymap, vocab.longest) is not None for ks in keys if ks)


_BRACKETED_ONLY = re.compile(r"[(（\[【].*[)）\]】]", re.S)


def _continues(row: list, nxt: list, cols: dict[str, int], form: F.Form,
               vocab: Vocabulary = _DEFAULT) -> dict[str, int] | None:
    """When the row below a header finishes its texts, the columns it completes (else None):
    text only, under header cells, each either a bracketed note (（QQ群、微信群等）) or the rest
    of a split header (是否全部 / 实名) that names no other column by itself. A data row never passes:
    its cells are values, not the ends of header words."""
    keymap = vocab.keymaps[form.id]
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
        alone = _lookup(_text_keys(text), keymap) if _lookup(_text_keys(text), vocab.any_form) is not None else None
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
    """类别, or a lone column standing for it (身份: 教师/学生)."""
    split = form.category
    return split is not None and any(k in {k2 for t in (split.parent, *split.lone) for k2 in _text_keys(t)}
                                     for k in _text_keys(text))


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
