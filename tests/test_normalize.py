"""Values as people really type them (SPEC §3): each accepted form, and the near misses."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netreg
from netreg.config import DEFAULT_GROUP_TYPES, DEFAULT_PLATFORMS, Choice
from netreg.check.normalize import (
    Parsed,
    choice_parser,
    clean_text,
    is_blank,
    is_placeholder,
    nfkc_key,
    parse_count,
    parse_date,
    parse_phone,
    parse_yesno,
)

parse_platform = choice_parser(DEFAULT_PLATFORMS)
parse_group_type = choice_parser(DEFAULT_GROUP_TYPES)
PARSERS = [parse_phone, parse_date, parse_count, parse_yesno, parse_platform, parse_group_type]


# ---------------------------------------------------------------- text


@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, ""),
        ("", ""),
        ("  张三  ", "张三"),
        ("张\u200b三\ufeff", "张三"),
        ("\u2060\u200c\u200d", ""),
        ("党委\u3000宣传部", "党委 宣传部"),
        ("a \t\u00a0 b", "a b"),
        ("第一行\r\n\n  第二行  \n\n", "第一行\n第二行"),
        ("a\x00b\x07c", "abc"),
        ("（信息工程学院）", "（信息工程学院）"),  # full-width brackets in names stay
        ("ＡＢＣ", "ＡＢＣ"),  # no NFKC for free text
        (13812345678.0, "13812345678"),
        (2300.0, "2300"),
        (2.5, "2.5"),
        (2.3, "2.3"),
        (-0.0, "0"),
        (42, "42"),
        (True, "是"),
        (False, "否"),
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1, 10, 30, 15), "2024-05-01 10:30"),
        (time(10, 30), "10:30:00"),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "\u200b", "\ufeff\n\t"])
def test_blank(raw):
    assert is_blank(raw) and is_placeholder(raw)
    for parse in PARSERS:
        assert parse(raw) == Parsed(None)


@pytest.mark.parametrize(
    "raw", ["无", " 暂无 ", "没有", "空", "/", "／", "\\", "—", "——", "-", "--", "－", "无。", "N/A", "n/a",
            "NA", "none", "NULL"]
)
def test_placeholder(raw):
    assert is_placeholder(raw)


@pytest.mark.parametrize("raw", ["〃", "0", "无锡", "张三", "否", 0])
def test_not_placeholder(raw):
    assert not is_placeholder(raw)


@pytest.mark.parametrize(
    "raw, expected",
    [("ＡＢＣ １２３", "abc123"), (" gh_0123abcdEF ", "gh_0123abcdef"), ("信息\u200b工程", "信息工程"),
     ("微信 工作群", "微信工作群"), (12345.0, "12345")],
)
def test_nfkc_key(raw, expected):
    assert nfkc_key(raw) == expected


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13812345678", "13812345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("138.1234.5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("86 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("19912345678", "19912345678"),
        ("17400012345", "17400012345"),  # 1740x: valid only in part, checked by phonenumbers
        ("0395-1234567", "0395-1234567"),
        ("(0395)1234567", "0395-1234567"),
        ("（0395）1234567", "0395-1234567"),
        ("03951234567", "0395-1234567"),
        ("0395 1234567", "0395-1234567"),
        ("0395—1234567", "0395-1234567"),
        ("０３９５－１２３４５６７", "0395-1234567"),
        (3951234567, "0395-1234567"),  # the leading 0 lost in a number cell
        ("010-12345678", "010-12345678"),
        ("0371-12345678", "0371-12345678"),
        ("0395-1234567-8001", "0395-1234567-8001"),
        ("0395-1234567转8001", "0395-1234567-8001"),
        ("0395-1234567 ext 8001", "0395-1234567-8001"),
        ("0395-1234567 EXT.8001", "0395-1234567-8001"),
        ("3136789", "0395-3136789"),  # a Luohe local number takes the default area code
        (3136789, "0395-3136789"),
        ("13812345678/13912345678", "13812345678/13912345678"),
        ("13812345678、0395-3136789", "13812345678/0395-3136789"),
        ("13812345678；13912345678", "13812345678/13912345678"),
        ("13812345678，13912345678", "13812345678/13912345678"),
        ("13812345678\n0395-3136789", "13812345678/0395-3136789"),
        ("13812345678 13912345678", "13812345678/13912345678"),
        ("138 1234 5678 139 1234 5678", "13812345678/13912345678"),
        ("13812345678 3136789", "13812345678/0395-3136789"),
        # notes and labels people add around a number
        ("13812345678（微信同号）", "13812345678"),
        ("13812345678(同微信)", "13812345678"),
        ("13812345678 微信同号", "13812345678"),
        ("13812345678微信同号", "13812345678"),
        ("手机：13812345678", "13812345678"),
        ("Tel: 13812345678", "13812345678"),
        ("0395-3136789(办)", "0395-3136789"),
        ("办公室：0395-3136789；手机：13812345678", "0395-3136789/13812345678"),
        ("0395-1234567 ext: 8001", "0395-1234567-8001"),
    ],
)
def test_phone_accepted(raw, expected):
    assert parse_phone(raw) == Parsed(expected)


def test_phone_other_area_code():
    assert parse_phone("66123456", "0371") == Parsed("0371-66123456")
    assert parse_phone("3136789", "0371").ok is False  # 0371 local numbers are 8 digits


@pytest.mark.parametrize(
    "raw",
    [
        "0395-12345678",  # Luohe local numbers are 7 digits: 0395 + 8 is a typo
        "039512345678",
        "138123456789",  # 12-digit "mobile"
        "1381234567",  # 10 digits
        "12345678901",  # 12x is not a mobile prefix
        "10012345678",
        "14012345678",  # 140: not in phonenumbers' mobile ranges
        "4001234567",  # a service hotline is not a person's phone
        "95588",
        "+1 650 253 0000",  # valid, but not Chinese
        "31367890",  # 8-digit local number with a 7-digit area code
        "13812345678.0",  # text float: the reader's job, not a phone
        "13812345678/123",  # every part must be valid
        "13812345678 8001",  # a mobile has no extension
        "电话",
        "微信同号",
        "无（暂无手机）",
        "手机：",
        "13812345678（139123456）",  # a note with digits is no note
        "138xxxx5678",
        "0395 3136789 8001",
        2.5,
        True,
    ],
)
def test_phone_invalid(raw):
    assert parse_phone(raw) == Parsed(clean_text(raw), "phone-invalid", ok=False)


# Measured here: parse_phone("13812345678") ≈ 1 µs (fast path); a landline ≈ 50 µs the first
# time (phonenumbers), ≈ 0.4 µs when cached. No timing assertions: they would be flaky.
def test_phone_fast_path_agrees_with_phonenumbers():
    import phonenumbers

    from netreg.check.normalize import _DATA_CARDS, _FAST_MOBILE, _number

    for prefix in range(100, 200):
        for tail in ("00000000", "12345678", "99999999", "50505050"):
            s = f"{prefix}{tail}"
            n = phonenumbers.parse(s, "CN")
            # phonenumbers, but for the 149 and 174 numbers it rejects and people use (PITFALLS)
            valid = phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) == 1 or s.startswith(_DATA_CARDS)
            if str(prefix) in _FAST_MOBILE:
                assert valid, s
            assert (_number(s, "0395") == s) == valid, s


def _run(code: str) -> str:
    src = str(Path(netreg.__file__).parent.parent)  # works whether or not netreg is installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def test_phonenumbers_is_imported_lazily_and_never_its_geocoder():
    assert _run("import sys, netreg.check.normalize; print('phonenumbers' in sys.modules)") == "False"
    code = "import sys, netreg.check.normalize as n; n.parse_phone('0395-1234567'); print('phonenumbers' in sys.modules, "
    code += "[m for m in sys.modules if 'geocoder' in m])"
    assert _run(code) == "True []"


# ---------------------------------------------------------------- dates

D = date(2024, 5, 1)


@pytest.mark.parametrize(
    "raw",
    [
        D, datetime(2024, 5, 1), datetime(2024, 5, 1, 10, 30), 45413, 45413.0, 45413.75, "45413",
        "2024-05-01", "2024/5/1", "2024.5.1", "2024年5月1日", "2024年5月1号", "2024 年 5 月 1 日", "20240501",
        20240501, "2024-05-01 00:00:00", "2024-5-1 10:30", "2024-05-01T10:30:00", "２０２４年５月１日",
        "  2024-05-01  ", "24.5.1", "24/05/01", "2024.5.1.", "2024年5月1日。",
    ],
)
def test_date_accepted(raw):
    assert parse_date(raw) == Parsed(D)


@pytest.mark.parametrize("raw", ["2024年5月", "2024-05", "2024/5", "2024.5", "2024年5月份", "２０２４年５月"])
def test_date_month_precision(raw):
    assert parse_date(raw) == Parsed(D, "date-imprecise")


@pytest.mark.parametrize(
    "raw",
    [
        "2024-02-30", "2024-13-01", "2023-02-29", "2024年", "2024", 2024, 1999, "5月1日", "2024-5-1 25:00",
        "1899-12-31", date(1899, 12, 31), "2024-05-01至2024-06-01", "下个月", "45413.0.1", 100, -1, 45413.0e9,
        10_000, time(10, 30), True, "24.5",
    ],
)
def test_date_invalid(raw):
    assert parse_date(raw) == Parsed(clean_text(raw), "date-invalid", ok=False)


def test_date_leap_day_and_serial_range():
    assert parse_date("2024-02-29").value == date(2024, 2, 29)
    assert parse_date(18264).value == date(1950, 1, 1)
    assert parse_date(73415).value == date(2100, 12, 31)
    assert parse_date(18263).ok is False and parse_date(73416).ok is False


# ---------------------------------------------------------------- counts


@pytest.mark.parametrize(
    "raw, expected",
    [
        (2300, 2300), (2300.0, 2300), ("2300", 2300), ("2,300", 2300), ("2，300", 2300), ("1,234,567", 1234567),
        ("2300人", 2300), ("2300 人", 2300), ("２３００", 2300), ("2.3万", 23000), ("2.35万", 23500),
        ("1.2w", 12000), ("1.2W", 12000), ("3k", 3000), ("3K", 3000), ("3千", 3000), ("1.5亿", 150_000_000),
        ("0", 0), (0, 0), ("2000", 2000), ("1999", 1999), ("2300.0", 2300),
    ],
)
def test_count_accepted(raw, expected):
    assert parse_count(raw) == Parsed(expected)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("约5000", 5000), ("大约5000", 5000), ("5000+", 5000), ("5000余", 5000), ("5000多", 5000),
        ("5000左右", 5000), ("≈5000", 5000), ("5000以上", 5000), ("10万+", 100_000), ("约2.3万人", 23000),
        ("5000余人", 5000), ("2300人以上", 2300), ("5000 +", 5000),
    ],
)
def test_count_approximate(raw, expected):
    assert parse_count(raw) == Parsed(expected, "number-approximate")


@pytest.mark.parametrize(
    "raw",
    ["-5", -5, -5.0, 2.5, "2.5", "1.23456万", "很多", "3000-5000", "3000~5000", "3000至5000", "2,30", "1e5",
     True, False, "人", "+", float("nan"), float("inf"), "5000万亿", 10**13],
)
def test_count_invalid(raw):
    assert parse_count(raw) == Parsed(clean_text(raw), "number-invalid", ok=False)


# ---------------------------------------------------------------- yes / no


@pytest.mark.parametrize(
    "raw",
    ["是", " 是 ", "是。", "已", "√", "✓", "✔", "☑", "Y", "y", "yes", "YES", "True", "1", 1, 1.0, True, "已清理",
     "已解散", "已注销", "全部实名", "已实名", "是（全部实名）", "是，已于5月解散", "ｙｅｓ", "清理了", "均已实名"],
)
def test_yes(raw):
    assert parse_yesno(raw) == Parsed(True)


@pytest.mark.parametrize(
    "raw",
    ["否", "未", "×", "✗", "✘", "☐", "N", "n", "no", "false", "0", 0, 0.0, False, "未清理", "未解散", "未实名",
     "部分实名", "否（部分未实名）", "否（还在用）", "不是", "没有", "没", "尚未", "还没有"],
)
def test_no(raw):
    assert parse_yesno(raw) == Parsed(False)


@pytest.mark.parametrize("raw", ["对", "错", "是否", "未知", "不知道", "2", 2, "好的", "待定", "x", "maybe"])
def test_yesno_invalid(raw):
    assert parse_yesno(raw) == Parsed(clean_text(raw), "yes-no-invalid", ok=False)


# ---------------------------------------------------------------- choices


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("微信公众号", "微信公众号"), ("公众号", "微信公众号"), ("微信 公众号", "微信公众号"), ("订阅号", "微信公众号"),
        ("新浪微博", "微博"), ("新浪微博号", "微博"), ("抖音号", "抖音"), ("Bilibili", "B站"), ("b站", "B站"),
        ("Ｂ站", "B站"), ("哔哩哔哩", "B站"), ("头条号", "今日头条"), ("小红书账号", "小红书"), ("官方抖音号", "抖音"),
        ("其它", "其他"), ("公众号（服务号）", "微信公众号"), ("微信公众号(订阅号)", "微信公众号"), ("新浪微博（微博）", "微博"),
    ],
)
def test_platform(raw, expected):
    assert parse_platform(raw) == Parsed(expected)


@pytest.mark.parametrize(
    "raw, expected",
    [("微信群", "微信群"), ("QQ群", "QQ群"), ("ＱＱ群", "QQ群"), ("qq群", "QQ群"), ("qq", "QQ群"), ("企业微信", "企业微信群"),
     ("企微群", "企业微信群"), ("钉钉", "钉钉群"), ("微信", "微信群")],
)
def test_group_type(raw, expected):
    assert parse_group_type(raw) == Parsed(expected)


@pytest.mark.parametrize("raw", ["知乎", " 百家号 ", "微信公众号（服务号）x", "号", "视频号（已认证）", "微信公众号（抖音）",
                                 "（抖音）"])
def test_choice_unknown_is_kept_as_typed(raw):
    assert parse_platform(raw) == Parsed(clean_text(raw), "choice-unknown")


def test_choice_name_wins_over_other_alias():
    parse = choice_parser([Choice(name="甲", aliases=["乙"]), Choice(name="乙")])
    assert parse("乙").value == "乙" and parse("甲").value == "甲"


# ---------------------------------------------------------------- properties

cell_values = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789０１２３４５６７８９ -—/.()（）年月日号转万w+约人,，;、\n\u3000\u200b", max_size=40),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.sampled_from(["13812345678", "0395-1234567-8001", "2024年5月", "约2.3万", "是（全部实名）", "公众号"]),
)


@settings(max_examples=500, deadline=None)
@given(cell_values)
def test_parsers_never_raise_and_are_idempotent(raw):
    for parse in PARSERS:
        p = parse(raw)
        assert isinstance(p, Parsed)
        assert p.ok or p.code  # a failure always says why
        again = parse(clean_text(p.value))
        assert again.value == p.value, (parse, raw, p, again)
        assert again.ok == p.ok


@settings(max_examples=500, deadline=None)
@given(cell_values)
def test_clean_text_is_idempotent(raw):
    text = clean_text(raw)
    assert clean_text(text) == text
    assert is_placeholder(raw) in (True, False)
    assert nfkc_key(text) == nfkc_key(nfkc_key(text))


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_fast_path_never_accepts_what_phonenumbers_rejects(s):
    import phonenumbers

    from netreg.check.normalize import _parse_phone_text

    try:
        n = phonenumbers.parse(s, "CN")
    except phonenumbers.NumberParseException:  # 17951...: a carrier-selection prefix
        n = None
    from netreg.check.normalize import _DATA_CARDS

    expected = n is not None and phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) == 1
    assert parse_phone(s).ok == (expected or s.startswith(_DATA_CARDS))
    _parse_phone_text.cache_clear()


def test_landline_shortcut_agrees_with_phonenumbers():
    """parse_phone formats landlines by China's numbering plan instead of asking phonenumbers
    for the area-code length (150 µs a call); both must agree on every valid number."""
    import random

    import phonenumbers

    rng = random.Random(7)
    areas = ["10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "311", "351", "371", "395", "396", "379",
             "335", "349", "433", "754", "851", "978", "994", "301", "555", "666", "999",
             "398", "431", "551", "591", "731", "755", "898", "991"]
    checked = 0
    for _ in range(20000):
        text = "0" + rng.choice(areas) + str(rng.randint(10**6, 10**8 - 1))
        number = phonenumbers.parse(text, "CN")
        if not phonenumbers.is_valid_number(number):
            assert parse_phone(text).code == "phone-invalid", text
            continue
        checked += 1
        cut = phonenumbers.length_of_geographical_area_code(number)
        nsn = str(number.national_number)
        assert parse_phone(text).value == f"0{nsn[:cut]}-{nsn[cut:]}", text
    assert checked > 8000
