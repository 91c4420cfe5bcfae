"""What became of a received file and of a submission when it was recorded (intake's lines,
the page's upload results)."""

from __future__ import annotations

from dataclasses import dataclass

NEW, DUPLICATE, NO_UNIT, UNREADABLE, NOT_LISTED = "新增", "重复", "无法确定单位", "无法读取", "不在单位名单中"


@dataclass(frozen=True)
class TakenFile:
    """What became of one file of a submission."""

    name: str
    forms: frozenset[int]
    result: str  # NEW, DUPLICATE, NO_UNIT or UNREADABLE
    detail: str = ""  # why, in Chinese (the first issue of an unreadable file; the submission it repeats)


@dataclass(frozen=True)
class Taken:
    """What became of one submission (报送): one delivery and its files."""

    name: str  # how it is shown: the zip's or .eml's name, the file's, 医学院.xlsx 等 3 个文件
    id: int | None  # the submission's number (None: nothing could be stored)
    unit: str | None
    round: int | None  # 第 N 次报送 of its unit
    forms: frozenset[int]
    result: str  # NEW, DUPLICATE, NO_UNIT, NOT_LISTED or UNREADABLE
    detail: str = ""
    files: tuple[TakenFile, ...] = ()
