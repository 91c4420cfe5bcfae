"""Open Packaging Conventions: finding the parts of an .xlsx or .docx as Office does.

Part names ignore case and may be %-escaped; relationships name targets relative to their
source part's folder; the main part is whatever the package's officeDocument relationship
names. XML parts are streamed through libxml2 (lxml: no entity resolved, no DTD, no network;
the guard has refused any DOCTYPE/ENTITY), each element dropped once read.
"""

from __future__ import annotations

import posixpath
import zipfile
from functools import lru_cache
from urllib.parse import unquote

from ..util.memo import Remembered


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def member(zf: zipfile.ZipFile, name: str | None) -> str | None:
    """The zip member holding part ``name``: OPC part names ignore case and may be %-escaped,
    and some Windows tools store them with backslashes (xl\\workbook.xml; calamine reads those)."""
    if not name:
        return None
    if name in zf.NameToInfo:
        return name
    wanted = {name.lower(), unquote(name).lower()}
    return next((n for n in zf.NameToInfo if n.replace("\\", "/").lower() in wanted), None)


@lru_cache(maxsize=4096)  # the same few targets in every return of a campaign
def resolve(folder: str, target: str) -> str | None:
    """A relationship's target as a part name; None when it points outside the package."""
    target = target.replace("\\", "/")
    path = target if target.startswith("/") else f"{folder}/{target}"
    parts: list[str] = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(seg)
    return "/".join(parts) or None


def iterparse(fh, events):
    """libxml2's streaming parser with every door shut: no entity resolved, no DTD, no network."""
    from lxml import etree

    return etree.iterparse(fh, events=events, resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=True, remove_comments=True, remove_pis=True)


_PARSER = None
MEMO_BYTES, MEMO_SIZE = 1 << 16, 256  # parts remembered by their bytes: at most this large, this many


def named(zf: zipfile.ZipFile, part: str | None, tag: str, max_bytes: int | None = None) -> list[dict[str, str]]:
    """The attributes of the elements of ``part`` whose local name is ``tag``, in the order
    ``elements`` yields them (where each ends). A part the package keeps in memory once
    checked (``GuardedZip``, small parts) is parsed whole and walked in C, and what a part
    of the same bytes gave is given again (the returns of one campaign share their
    relationships, workbook and styles parts byte for byte); else ``elements`` streams it.
    Either way the same parser, with the same doors shut, reads the same bytes: an error
    anywhere in the part raises (and is never remembered), as it does for a caller of
    ``elements`` reading every element."""
    name = member(zf, part)
    if name is None or max_bytes is not None and zf.getinfo(name).file_size > max_bytes:
        return []
    data = zf.part(name) if hasattr(zf, "part") else None
    if data is None:
        return [dict(el.attrib) for el, _ in elements(zf, name) if local(el.tag) == tag]
    found = _NAMED[data, tag] if len(data) <= MEMO_BYTES else _named((data, tag))
    return [dict(attrs) for attrs in found]  # the caller's own copies


def _named(key: tuple[bytes, str]) -> list[dict[str, str]]:
    """The attributes of the elements named ``tag`` of the part ``data`` (``key``), parsed whole."""
    from lxml import etree

    data, tag = key
    root = etree.fromstring(data, _parser())
    return [dict(el.attrib) for _, el in etree.iterwalk(root, events=("end",), tag="{*}" + tag)]


_NAMED = Remembered(_named, MEMO_SIZE)  # a part's answer by its bytes (a parse error is never remembered)


def elements(zf: zipfile.ZipFile, part: str | None, max_bytes: int | None = None):
    """(element, open ancestors) at the end of every element of ``part``, streamed (see the
    module's doc); each element is dropped from its parent once yielded, so a part of any size
    costs the memory of one branch. Nothing for a missing part (or one over ``max_bytes``)."""
    name = member(zf, part)
    if name is None or max_bytes is not None and zf.getinfo(name).file_size > max_bytes:
        return
    with zf.open(name) as fh:
        stack: list = []
        for event, el in iterparse(fh, ("start", "end")):
            if event == "start":
                stack.append(el)
                continue
            stack.pop()
            yield el, stack
            if stack:
                del stack[-1][-1]  # the element just ended is its parent's last child


WHOLE = True  # ``walk`` parses a kept part whole (tests turn it off to compare with ``elements``)


def walk(zf: zipfile.ZipFile, part: str | None):
    """What ``elements`` yields, for a caller that reads every element: (element, open
    ancestors) at the end of each element, in the same order. A part the package keeps in
    memory once checked (``guard.GuardedZip``, small parts) is parsed whole by the same
    parser with the same doors shut (``named``) and walked in C, skipping the streaming
    parser's set-up (some 0.15 ms for a 1 KB docProps/custom.xml, issue 24); its elements are
    not dropped as they end (no caller looks back). A malformed part raises before the
    first element, where ``elements`` raises on reaching the damage: a caller reading every
    element sees the same error either way."""
    name = member(zf, part)
    data = zf.part(name) if WHOLE and name is not None and hasattr(zf, "part") else None
    if data is None:
        yield from elements(zf, name)
        return
    from lxml import etree

    stack: list = []
    for event, el in etree.iterwalk(etree.fromstring(data, _parser()), events=("start", "end")):
        if event == "start":
            stack.append(el)
            continue
        stack.pop()
        yield el, stack


def _parser():
    global _PARSER
    if _PARSER is None:
        from lxml import etree

        _PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                                  remove_comments=True, remove_pis=True)
    return _PARSER


def relationships(zf: zipfile.ZipFile, part: str, max_bytes: int | None = None) -> list[tuple[str, str, str]]:
    """(Id, type, target part) of the internal relationships of ``part`` ('' = the package);
    parsed once a package when it keeps what is parsed from it (``guard.GuardedZip.parsed``)."""
    cache = getattr(zf, "parsed", None)
    if cache is None:
        return _relationships(zf, part, max_bytes)
    key = ("relationships", part, max_bytes)
    if key not in cache:
        cache[key] = _relationships(zf, part, max_bytes)
    return list(cache[key])


def _relationships(zf: zipfile.ZipFile, part: str, max_bytes: int | None) -> list[tuple[str, str, str]]:
    folder, base = posixpath.split(part)
    out = []
    for el in named(zf, posixpath.join(folder, "_rels", base + ".rels"), "Relationship", max_bytes):
        if (el.get("TargetMode") or "").lower() == "external":
            continue
        target = resolve(folder, el.get("Target") or "")
        if target is not None:
            out.append((el.get("Id") or "", el.get("Type") or "", target))
    return out


def main_part(zf: zipfile.ZipFile, usual: str, max_bytes: int | None = None) -> str | None:
    """The package's main part (a workbook, a Word document), found as Excel and Word find it:
    the package's officeDocument relationship (transitional or strict), else ``usual``
    (xl/workbook.xml, word/document.xml)."""
    for _, kind, target in relationships(zf, "", max_bytes):
        if kind.endswith("/officeDocument"):
            found = member(zf, target)
            if found is not None:
                return found
    return member(zf, usual)
