"""Turn cell values as people really type them into phones, dates, counts, yes/no and choices.

Every parser takes whatever a reader returns (str, int, float, bool, date, datetime, time,
None or '') and never raises: a value it cannot understand comes back as the cleaned text
with an issue code, so the caller can report it instead of dropping it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from ..util.memo import Remembered
from ..util.text import (  # noqa: F401 (re-exported)
    clean_cell,
    _FILLER_MAX,
    _PLACEHOLDERS,
    _key,
    clean_text,
    is_blank,
    is_placeholder,
    nfkc_key,
)

if TYPE_CHECKING:  # config imports pydantic; keep normalize importable without it
    from netreg.config import Choice


@dataclass(frozen=True, slots=True)
class Parsed:
    value: object  # normalised value; when parsing failed: the cleaned text as typed
    code: str | None = None  # issue code, or None when clean
    ok: bool = True  # False when `value` is not normalised (code is then an error code)
    note: str | None = None  # what exactly is wrong, when the code's message alone would mislead


BLANK = Parsed(None)


# ---------------------------------------------------------------- shortcuts on every cell
# check_row asks these of every cell; each agrees with the slow function it stands for
# (tests/test_fast_paths.py).

_PLACEHOLDER_SEEN = Remembered(is_placeholder)


def placeholder_text(text: str) -> bool:
    """``is_placeholder(text)`` for text already cleaned (``clean_text``). A long text is a
    filler only as a rule of dashes (never when it opens with a letter, digit or ideograph);
    a short one is remembered (names, 是/否, platforms repeat on every row)."""
    if len(text) > _FILLER_MAX:
        return not text[0].isalnum() and is_placeholder(text)
    return _PLACEHOLDER_SEEN[text]

# ---------------------------------------------------------------- phones

# 3-digit mobile prefixes where phonenumbers 9 accepts every 11-digit number (its CN mobile
# pattern 1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8}); 1610 and 1740x are valid
# only in part, so they go to phonenumbers. tests/test_normalize.py checks the agreement.
_FAST_MOBILE = frozenset(
    [f"{p}{d}" for p in ("13", "18") for d in "0123456789"]
    + [f"{p}{d}" for p in ("15", "19") for d in "012356789"]
    + [f"17{d}" for d in "01235678"]
    + ["145", "147", "162", "165", "166", "167"]
)
_PHONE_SPLIT = re.compile(r"[/、;,|\n]|或|和")
# What people write around a number (after NFKC): 13812345678（微信同号）, 手机：13812345678,
# 0395-3136789(办), 13812345678 微信同号. Bracketed notes hold no digits ((0395)1234567 stays);
# a label is a word and a colon. Only the number is kept as the value.
_PHONE_NOTE = re.compile(r"\([^()\d]*\)|\[[^\[\]\d]*\]|【[^【】\d]*】")
_PHONE_LABEL = re.compile(r"(?<![^\W\d_])(?!(?:ext|x)\s*:)[^\W\d_]{1,8}\s*:")
_PHONE_WORDS = re.compile(r"微信同号|同微信号?|微信号?|手机号码|手机号|手机|办公电话|办公室|办公|座机|固话|电话|宅|家|办")
_DASHES = re.compile("[\u2010-\u2015\u2212\u30fc]")  # hyphens, en/em dashes, minus, ー
_PHONE_JUNK = re.compile(r"[\s\-.()]")
_FAST_LANDLINE = re.compile(r"0[0-9]{2,3}-[0-9]{7,8}")
_DIGITS_ONLY = re.compile(r"\+?[0-9]{3,20}")
_EXTENSION = re.compile(r"(.*[0-9])\s*\(?\s*(?:转|分机|ext[.:]?|x|#|-)\s*([0-9]{1,6})\s*\)?")


def _is_fast_mobile(s: str) -> bool:
    return len(s) == 11 and s[:3] in _FAST_MOBILE and s.isascii() and s.isdigit()


def parse_phone(raw: object, area_code: str = "0395") -> Parsed:
    return phone_cell(raw, clean_text(raw), area_code)


def phone_cell(raw: object, text: str, area_code: str = "0395") -> Parsed:
    """``parse_phone`` given also ``text = clean_text(raw)`` (as every ``*_cell`` parser)."""
    if not text:
        return BLANK
    if _is_fast_mobile(text):
        return Parsed(text)
    if _FAST_LANDLINE.fullmatch(text) and (number := _number(text, area_code)):
        return Parsed(number)  # 0395-3136789: nothing to fold, split or strip (as the long way finds)
    return _parse_phone_text(text, area_code)


@lru_cache(maxsize=65536)  # the same filler's phone repeats on every sheet of a unit
def _parse_phone_text(text: str, area_code: str) -> Parsed:
    out: list[str] = []
    folded = _DASHES.sub("-", unicodedata.normalize("NFKC", text).casefold())
    folded = _PHONE_LABEL.sub(" ", _PHONE_NOTE.sub(" ", folded))
    if not folded.isascii():
        folded = _PHONE_WORDS.sub(" ", folded)
    for part in _PHONE_SPLIT.split(folded):
        if len(part) > 40:  # no phone is this long; also bounds the regex backtracking
            return Parsed(text, "phone-invalid", ok=False)
        if not part.strip():
            continue
        found = _one_phone(part, area_code) or _space_separated(part.split(), area_code)
        if not found:
            digits = _PHONE_JUNK.sub("", part)
            iot = len(digits) == 13 and digits.startswith("14") and digits.isdigit()
            return Parsed(text, "phone-invalid", ok=False, note=IOT_NOTE if iot else None)
        out.extend(found.split("/"))
    return Parsed("/".join(out)) if out else Parsed(text, "phone-invalid", ok=False)


def _space_separated(tokens: list[str], area_code: str) -> str | None:
    """Split 'a b c d' into whole numbers ('138 1234 5678 0395 3136789'), or None."""
    if len(tokens) < 2 or len(tokens) > 12:
        return None
    best: list[str | None] = [""] + [None] * len(tokens)  # best[i]: tokens[:i] as numbers
    for i in range(1, len(tokens) + 1):
        for j in range(i):
            phone = best[j] is not None and _one_phone(" ".join(tokens[j:i]), area_code)
            if phone:
                best[i] = f"{best[j]}/{phone}" if best[j] else phone
                break
    return best[-1]


def _one_phone(part: str, area_code: str) -> str | None:
    number = _number(part, area_code)
    if number is None and (m := _EXTENSION.fullmatch(part.strip())):
        main = _number(m.group(1), area_code)
        if main and "-" in main:  # only landlines have extensions
            return f"{main}-{m.group(2)}"
    return number


@lru_cache(maxsize=1)
def _cn_landline_patterns():
    from phonenumbers import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region("CN")
    return re.compile(meta.general_desc.national_number_pattern), re.compile(meta.fixed_line.national_number_pattern)


IOT_NOTE = "：13 位、以 14 开头的是物联网卡号，不能用作联系电话，请填写手机号或带区号的座机号码。"
# 11-digit numbers people use that phonenumbers 9 rejects: 149 data/voice cards and the 174
# satellite range (PITFALLS: "Phone numbers, again"). Checked here, before it.
_DATA_CARDS = ("149", "174")


def _number(part: str, area_code: str) -> str | None:
    digits = _PHONE_JUNK.sub("", part)
    if not _DIGITS_ONLY.fullmatch(digits):
        return None
    if _is_fast_mobile(digits):
        return digits
    national = digits[3:] if digits.startswith("+86") else digits[2:] if len(digits) == 13 and digits[:2] == "86" else digits
    if len(national) == 11 and national.startswith(_DATA_CARDS) and national.isdigit():
        return national
    if 7 <= len(digits) <= 8 and digits[0] in "23456789":
        digits = area_code + digits  # a local number: Luohe numbers are 7 digits
    if len(digits) in (11, 12) and digits[0] == "0" and digits[1] in "3456789":
        # 0395-1234567: matching phonenumbers' own China patterns directly skips its parse
        # (~40 µs); a number they do not match still goes the long way below.
        general, fixed_line = _cn_landline_patterns()
        nsn = digits[1:]
        if general.fullmatch(nsn) and fixed_line.fullmatch(nsn):
            return f"0{nsn[:3]}-{nsn[3:]}"
    import phonenumbers  # lazily: start-up time matters (and never phonenumbers.geocoder)

    try:
        n = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    if n.country_code != 86 or not phonenumbers.is_valid_number(n):
        return None
    nsn = str(n.national_number)
    # China's plan, applied directly (number_type and length_of_geographical_area_code cost
    # ~150 µs a call): a valid 10/11-digit number that opens with an area code is a landline,
    # 010 and 02x have two-digit codes, every other code has three (0395).
    if nsn[0] in "23456789" and not nsn.startswith(("400", "800")) and len(nsn) in (10, 11):
        cut = 2 if nsn[0] == "2" else 3
        return f"0{nsn[:cut]}-{nsn[cut:]}"
    if nsn.startswith("10") and len(nsn) in (10, 11):
        return f"010-{nsn[2:]}"
    kind = phonenumbers.number_type(n)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return nsn
    return None  # 400/800 service numbers, 95xxx: not a person's mobile or landline


# ---------------------------------------------------------------- dates

_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 with Excel's fake 1900-02-29 skipped
_SERIALS = ((date(1950, 1, 1) - _EXCEL_EPOCH).days, (date(2100, 12, 31) - _EXCEL_EPOCH).days)
_YEARS = (1900, 2100)  # outside: a typo (or Excel's "1900-01-00" for an empty date cell)
_TIME = r"(?:\s*t?\s*([0-9]{1,2}):([0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
_YMD = re.compile(
    r"([0-9]{4}|[0-9]{2})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*[日号]?" + _TIME
)
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})" + _TIME)
_YM = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*月?(?:份)?")


def parse_date(raw: object) -> Parsed:
    return date_cell(raw, clean_text(raw))


def date_cell(raw: object, text: str) -> Parsed:
    if not text:
        return BLANK
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return Parsed(raw) if _YEARS[0] <= raw.year <= _YEARS[1] else Parsed(text, "date-invalid", ok=False)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
        if value := _serial(int(raw)):  # a fraction is the time of day: dropped
            return Parsed(value)
    return _parse_date_text(text)


def _serial(n: int) -> date | None:
    return _EXCEL_EPOCH + timedelta(days=n) if _SERIALS[0] <= n <= _SERIALS[1] else None


def _date(y: int, mo: int, d: int) -> date | None:
    try:
        return date(y, mo, d) if _YEARS[0] <= y <= _YEARS[1] else None
    except ValueError:  # 2024-02-30, 2024-13-01
        return None


@lru_cache(maxsize=4096)
def _parse_date_text(text: str) -> Parsed:
    s = unicodedata.normalize("NFKC", text).strip().casefold().rstrip("。.,;!")  # 2024.5.1。
    value, code = None, None
    if re.fullmatch(r"[0-9]{5}(?:\.[0-9]+)?", s):  # a serial number kept as text
        value = _serial(int(s.split(".")[0]))
    elif m := _YMD.fullmatch(s) or _COMPACT.fullmatch(s):
        y = int(m[1]) + (0 if len(m[1]) == 4 else 2000 if int(m[1]) < 70 else 1900)  # 24.5.1
        if m[4] is None or (int(m[4]) < 24 and int(m[5]) < 60):
            value = _date(y, int(m[2]), int(m[3]))
    elif m := _YM.fullmatch(s):  # a bare 2024 matches nothing: a year is not a date
        value, code = _date(int(m[1]), int(m[2]), 1), "date-imprecise"
    return Parsed(value, code) if value else Parsed(text, "date-invalid", ok=False)


# ---------------------------------------------------------------- counts

# 约2.3万人, 5000余人, 2300人以上, 10万+: a hedge before or after, a unit anywhere after.
_HEDGED = re.compile(r"(大约|大概|约|≈|~|〜|近|超过)?(.*?)(?:人|个|名|位)?(左右|上下|以上|余|多|\+|来)?(?:人|个|名|位)?")
_COUNT = re.compile(r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,20})(\.[0-9]{1,8})?(百|千|k|万|w|亿)?")
_MULTIPLIER = {None: 1, "百": 100, "千": 1000, "k": 1000, "万": 10_000, "w": 10_000, "亿": 100_000_000}
_MAX_COUNT = 10**12  # more than anyone's followers; bigger is a typo (and keeps ints printable)


def parse_count(raw: object, scale: int = 1) -> Parsed:
    """A count as typed; ``scale`` is the unit its column's header gives (粉丝数（万）: 10000),
    applied to a number typed without a unit of its own (1.2 → 12000, 0.15 → 1500)."""
    return count_cell(raw, clean_text(raw), scale)


def count_cell(raw: object, text: str, scale: int = 1) -> Parsed:
    if not text:
        return BLANK
    if isinstance(raw, bool):  # a tick box is not a number
        return Parsed(text, "number-invalid", ok=False)
    if isinstance(raw, int) and scale == 1:
        return Parsed(raw) if 0 <= raw <= _MAX_COUNT else Parsed(text, "number-invalid", ok=False)
    return _parse_count_text(text, scale)


@lru_cache(maxsize=4096)
def _parse_count_text(text: str, scale: int = 1) -> Parsed:
    hedged = _HEDGED.fullmatch("".join(unicodedata.normalize("NFKC", text).casefold().split()))
    m = hedged and _COUNT.fullmatch(hedged[2])
    if not m:  # also ranges (3000-5000), negatives and words (很多)
        return Parsed(text, "number-invalid", ok=False)
    value = Decimal(m[1].replace(",", "") + (m[2] or "")) * (_MULTIPLIER[m[3]] if m[3] else scale)
    if value != value.to_integral_value() or value > _MAX_COUNT:  # 2.5 people; 2.35万 is fine
        return Parsed(text, "number-invalid", ok=False)
    approx = hedged[1] or hedged[3]
    return Parsed(int(value), "number-approximate" if approx else None)


# ---------------------------------------------------------------- yes / no

_YES = frozenset(
    "是 是的 已 √ ✓ ✔ ☑ ✅ y yes true 1 已清理 已解散 已注销 已删除 已退出 已实名 全部实名 已全部实名 全部"
    " 清理了 已经清理 解散了 删除了 注销了 退出了 实名了 都实名 都已实名 均已实名 均实名 全员实名".split()
)
_NO = frozenset(
    "否 不是 不 未 × ✗ ✘ ✕ ❌ ☐ n no false 0 未清理 未解散 未注销 未实名 部分实名 部分未实名 部分 没有实名 未全部实名"
    " 没有 没 还没有 尚未 没有清理 没清理 没有解散 不是全部实名 没有全部实名".split()
)
_LEADS = {"是": True, "已": True, "√": True, "✓": True, "✔": True,
          "否": False, "未": False, "×": False, "✗": False, "✘": False}
# Not answers although they begin with one: the header copied into the cell, "unknown".
_NOT_ANSWERS = ("是否", "未知", "未定", "未确定")


def parse_yesno(raw: object) -> Parsed:
    return yesno_cell(raw, clean_text(raw))


def yesno_cell(raw: object, text: str) -> Parsed:
    if not text:
        return BLANK
    if isinstance(raw, bool):
        return Parsed(raw)
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return Parsed(bool(raw))
    return _yesno_text(text)


@lru_cache(maxsize=4096)  # 是/否/√ repeat on every row (~5 µs a parse, ~0.2 µs remembered)
def _yesno_text(text: str) -> Parsed:
    key = "".join(_key(text).split()).rstrip("。.!！,;、")
    if key in _YES or key in _NO:
        return Parsed(key in _YES)
    if key[:1] in _LEADS and not key.startswith(_NOT_ANSWERS):
        return Parsed(_LEADS[key[:1]])  # 是，已于5月解散 / 否（还在用）
    return Parsed(text, "yes-no-invalid", ok=False)


# ---------------------------------------------------------------- choices

_BRACKETS = re.compile(r"\([^()]*\)")  # after NFKC, （） are ()
_CHOICE_AFFIXES = re.compile(r"^官方|(?:官方账号|账号|帐号|号|平台|app|客户端)$")


_CHOICE_PARSERS = Remembered(lambda key: _choice_parser(key), 64)  # one parser per list of choices


def choice_parser(choices: list[Choice]) -> Callable[[object], Parsed]:
    """A parser mapping a name or alias (any width, case or spacing) to its canonical name;
    anything else is kept as typed with a choice-unknown warning. One per list of choices
    (a Context is built for every file), each remembering the texts it has parsed."""
    return _CHOICE_PARSERS[tuple((c.name, tuple(c.aliases)) for c in choices)]


CHOICE_SEEN_MAX = 65536  # texts a choice parser remembers (platform names repeat on every row)


def _choice_parser(choices: tuple[tuple[str, tuple[str, ...]], ...]) -> Callable[[object], Parsed]:
    """The parser of ``choices``, each (name, aliases)."""
    lookup: dict[str, str] = {}
    for name, aliases in choices:
        for alias in aliases:
            lookup.setdefault(nfkc_key(alias), name)
    for name, _aliases in choices:  # a name wins over another choice's alias
        lookup[nfkc_key(name)] = name

    seen = Remembered(lambda text: parse_text(text), CHOICE_SEEN_MAX)

    def parse(raw: object) -> Parsed:
        return parse_cell(raw, clean_text(raw))

    def parse_cell(raw: object, text: str) -> Parsed:
        """``parse_text(text)``, remembered: the answer depends on the text alone."""
        return seen[text]

    def parse_text(text: str) -> Parsed:
        if not text:
            return BLANK
        key = nfkc_key(text)
        if key in lookup:
            return Parsed(lookup[key])
        bare = _CHOICE_AFFIXES.sub("", key)  # 新浪微博号, 官方抖音号, 小红书账号
        if bare in lookup:
            return Parsed(lookup[bare])
        # 公众号（服务号）, 微信公众号(订阅号): a name and a bracketed alias of the same choice
        # (only then is nothing lost; 视频号（已认证） stays as typed, with its warning)
        outer, inner = _BRACKETS.sub("", key), "".join(_BRACKETS.findall(key))[1:-1]
        found = [lookup.get(k) or lookup.get(_CHOICE_AFFIXES.sub("", k)) for k in (outer, inner)]
        if found[0] is not None and found[0] == found[1]:
            return Parsed(found[0])
        return Parsed(text, "choice-unknown")

    parse.cell = parse_cell  # the (raw, text) form, as the ``*_cell`` parsers
    parse.text = parse_text  # the same, never remembered (tests/test_merge_fast.py compares them)
    return parse

