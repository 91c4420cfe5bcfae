"""The ASGI application of ``netreg serve``: routes, the token and CSRF checks, the pages.

Security (SPEC §10): loopback by default; every request carries the random token (in the
URL the server printed, then in a cookie); every POST carries the CSRF token of the page
it came from; upload names are only shown, never used as paths (they become safe names in a
scratch folder of our own); every value is escaped by jinja2's autoescape.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..app import Progress

COOKIE = "netreg_token"
FILTERS = {"未报送": "missing", "需整改": "fix", "需补报": "incomplete", "逾期": "late", "整改逾期": "correction_late",
           "纸质版未交": "paper"}
MAX_UPLOAD_FILES = 200
MAX_REQUEST_MB = 512  # one request (an upload): larger ones are refused before they are read


@dataclass
class Site:
    """What the server knows: the campaign folder, its token, and the board cached by the
    ledger's version (a board is one validation of the counted files; the page polls)."""

    folder: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    lock: threading.Lock = field(default_factory=threading.Lock)
    cached: tuple[str, object] | None = None
    job: Job | None = None  # the summary being made (it runs on while the page is left)
    next_job: Job | None = None  # 下一年: the comparison and the pre-filled forms being made

    def open(self):
        from ..campaign import open_campaign

        return open_campaign(self.folder)

    def version(self) -> str:
        """Changes whenever anything the board shows may have changed: the ledger (also by the
        CLI, another tab), the settings or the unit list, and the day."""
        from ..campaign.ledger import DB_NAME

        parts = [date.today().isoformat()]
        for name in (DB_NAME, DB_NAME + "-wal", "netreg.toml"):
            try:
                st = (self.folder / name).stat()
                parts.append(f"{st.st_mtime_ns}:{st.st_size}")
            except OSError:
                parts.append("-")
        ledger, config, _units, _contacts = self.open()
        with ledger:
            row = ledger.db.execute(
                "SELECT (SELECT COUNT(*) FROM deliveries), (SELECT COUNT(*) FROM overrides),"
                " (SELECT COUNT(*) FROM paper), (SELECT COUNT(*) FROM asked)").fetchone()
        if config.units_file is not None:
            try:
                parts.append(str(config.units_file.stat().st_mtime_ns))
            except OSError:
                parts.append("-")
        return "/".join(parts + [str(n) for n in row])

    def status(self):
        """The board's data: ``campaign_status`` as of today, computed once per version."""
        from ..app.campaign import campaign_status

        with self.lock:
            version = self.version()
            if self.cached is None or self.cached[0] != version:
                ledger, config, units, _ = self.open()
                with ledger:
                    self.cached = (version, campaign_status(ledger, config, units, date.today()))
            return self.cached[1]


@dataclass
class Job(Progress):
    """A long operation the page can leave and come back to: what it is doing now."""

    state: str = "running"  # running | done | failed
    started: datetime = field(default_factory=datetime.now)
    lines: list[str] = field(default_factory=list)  # the result, in Chinese


LETTERS = "催报"
COPIES = "修改意见"  # the annotated copies made from a unit's page
SUMMARY = "汇总"
NEXT = "下一年"
NEXT_FILES = {"对比.html": "text/html; charset=utf-8",
              "对比.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "预填登记表.zip": "application/zip"}
SUMMARY_FILES = {"汇总.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "汇总报告.html": "text/html; charset=utf-8"}


def create_app(folder: Path, *, token: str | None = None):
    """The Starlette application serving the campaign in ``folder``."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Route

    site = Site(Path(folder))
    if token:
        site.token = token
    routes = [
        Route("/", board, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/unit/{name:path}", unit_page, methods=["GET"]),
        Route("/unit-copy/{name:path}", unit_copy, methods=["GET"]),
        Route("/paper", paper, methods=["POST"]),
        Route("/override", override, methods=["POST"]),
        Route("/file/{fid:int}", download, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/letters", letters_page, methods=["GET"]),
        Route("/letters/make", letters_make, methods=["POST"]),
        Route("/letters/file/{name}", letters_file, methods=["GET"]),
        Route("/letters/send", letters_send, methods=["POST"]),
        Route("/mail", mail_fetch, methods=["POST"]),
        Route("/assign", assign, methods=["POST"]),
        Route("/summary", summary_page, methods=["GET"]),
        Route("/summary/run", summary_run, methods=["POST"]),
        Route("/summary/file/{name}", summary_file, methods=["GET"]),
        Route("/next", next_page, methods=["GET"]),
        Route("/next/run", next_run, methods=["POST"]),
        Route("/next/file/{name}", next_file, methods=["GET"]),
    ]
    from starlette.exceptions import HTTPException

    app = Starlette(routes=routes, middleware=[Middleware(_Guard, site=site)],
                    exception_handlers={_Refused: _refused, HTTPException: _http_error, Exception: _crashed})
    app.state.site = site
    return app


class _Guard:
    """Every request carries the token (query ``token`` or the cookie); a POST also carries the
    CSRF token. A wrong or missing token is 403 with one Chinese line."""

    def __init__(self, app, site: Site):
        self.app = app
        self.site = site

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse

        request = Request(scope)
        given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), self.site.token.encode()):
            response = PlainTextResponse("403：缺少或错误的访问口令。请使用 netreg serve 启动时显示的完整网址打开本页。",
                                         status_code=403)
            return await response(scope, receive, send)
        scope.setdefault("state", {})["site"] = self.site

        async def send_with_cookie(message):
            if message["type"] == "http.response.start" and request.query_params.get("token"):
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", f"{COOKIE}={self.site.token}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _site(request) -> Site:
    return request.scope["state"]["site"]


def _page(request, template: str, status_code: int = 200, **context):
    from starlette.responses import HTMLResponse

    from ..util.resources import jinja_env

    site = _site(request)
    html = jinja_env().get_template(f"web/{template}").render(csrf=site.csrf, today=date.today(), **context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


class _Refused(Exception):
    """A request the page does not take: its status and one Chinese line."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


async def _refused(request, exc: _Refused):
    return _page(request, "result.html.j2", status_code=exc.status, title="未能处理", lines=[exc.text], back="/")


async def _http_error(request, exc):
    """Starlette's own refusals (no such page, a GET where a button POSTs…) in Chinese, never its English."""
    from starlette.responses import PlainTextResponse

    words = {404: "404：没有这个页面", 405: "405：这个地址只能由页面上的按钮使用，请返回首页操作"}
    return PlainTextResponse(words.get(exc.status_code, f"{exc.status_code}：无法处理这个请求，请返回首页重试"),
                             status_code=exc.status_code)


async def _crashed(request, exc):
    """What no handler expected: one Chinese line (NETREG_DEBUG=1 prints why), never a traceback page."""
    from starlette.responses import PlainTextResponse

    from ..util.debug import note

    note(exc)
    return PlainTextResponse("500：处理时出错，请返回首页重试（设置环境变量 NETREG_DEBUG=1 后重新启动可看到技术细节）",
                             status_code=500)


async def _form(request):
    """The POSTed form, after the CSRF check (a ``NetregError``-free 403 otherwise). Files are
    spooled to disk as they arrive (Starlette's parser), never held whole in memory; a request
    larger than ``MAX_REQUEST_MB`` is refused from its declared length before it is read."""
    from starlette.exceptions import HTTPException

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_MB * 1048576:
        raise _Refused(413, f"一次上传的内容过大（{int(declared) / 1048576:.0f} MB，上限 {MAX_REQUEST_MB} MB）："
                            "请分几次上传，或用命令 netreg intake 登记")
    try:
        form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=100)
    except HTTPException:  # too many files or fields, a broken multipart body: Starlette's words are English
        raise _Refused(400, f"无法读取上传的内容：一次最多上传 {MAX_UPLOAD_FILES} 个文件，请分几次上传") from None
    if not hmac.compare_digest(str(form.get("csrf", "")).encode(), _site(request).csrf.encode()):
        return None
    return form


def _forbidden():
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("403：页面已过期或来源不明，请刷新页面后重试。", status_code=403)


def _back(path: str, message: str = ""):
    from urllib.parse import quote

    from starlette.responses import RedirectResponse

    return RedirectResponse(path + (f"?msg={quote(message)}" if message else ""), status_code=303)


# ------------------------------------------------------------------------------ pages

async def board(request):
    from starlette.concurrency import run_in_threadpool

    site = _site(request)
    status = await run_in_threadpool(site.status)
    show = request.query_params.get("show", "")
    query = (request.query_params.get("q") or "").strip()
    rows = [r for r in status.rows if _shown(r, show, status) and (not query or query in r.status.unit)]
    listed = [r for r in status.rows if r.listed]
    deadline = status.deadline
    days = (deadline - date.today()).days if deadline else None
    counts = {}
    for r in listed:
        counts[r.status.state.label] = counts.get(r.status.state.label, 0) + 1
    ledger, config, _units, _contacts = site.open()
    ledger.close()
    return _page(request, "board.html.j2", status=status, rows=rows, listed=listed, counts=counts, days=days,
                 unit_names=[r.status.unit for r in listed],
                 mailbox=config.mail.user if config.mail.imap_host else "",
                 show=show, q=query, filters=list(FILTERS), version=await run_in_threadpool(site.version),
                 msg=request.query_params.get("msg", ""), taken=_taken_lines(request))


def _shown(row, show: str, status) -> bool:
    from ..model.report import UnitState

    key = FILTERS.get(show)
    if key is None:
        return True
    if key == "late":
        return row.late
    if key == "correction_late":
        return row.correction_late
    if key == "paper":
        return row.paper is None and status.deadline is not None and status.as_of > status.deadline
    return row.status.state is {"missing": UnitState.MISSING, "fix": UnitState.FIX,
                                "incomplete": UnitState.INCOMPLETE}[key]


def _taken_lines(request) -> list[str]:
    text = request.query_params.get("taken", "")
    return [line for line in text.split("\n") if line][:200]


async def version(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(await run_in_threadpool(_site(request).version), headers={"Cache-Control": "no-store"})


async def unit_page(request):
    from starlette.concurrency import run_in_threadpool

    site = _site(request)
    name = request.path_params["name"]
    data = await run_in_threadpool(_unit_data, site, name)
    if data is None:
        return _page(request, "missing.html.j2", status_code=404, what=f"台账和单位名单中都没有“{name}”")
    return _page(request, "unit.html.j2", msg=request.query_params.get("msg", ""), **data)


def _unit_data(site: Site, name: str) -> dict | None:
    from ..campaign.contacts import unit_named
    from ..app.campaign import unit_history
    from ..render.campaign import forms_text
    from ..render.terminal import issue_line

    status = site.status()
    ledger, config, units, contacts = site.open()
    unit = unit_named(name, units, contacts) or name
    row = next((r for r in status.rows if r.status.unit == unit), None)
    with ledger:
        history = unit_history(ledger, config, unit, date.today())
    if row is None and not history.submissions:
        return None
    issues = [i for i in status.view.report.issues if i.unit == unit]
    return {"unit": unit, "row": row, "history": history, "issues": [(i, issue_line(i)) for i in issues],
            "forms_text": forms_text, "deadline": status.deadline, "copies": COPIES}


async def unit_copy(request):
    """下载修改意见表: the unit's annotated copies as ``validate --annotate`` makes them in a
    campaign (one workbook, or a zip of several), kept in the campaign's 修改意见/ folder."""
    from urllib.parse import quote

    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse, RedirectResponse

    name = request.path_params["name"]
    path, message = await run_in_threadpool(_unit_copy, _site(request), name)
    if path is None and message is None:
        return _page(request, "missing.html.j2", status_code=404, what=f"台账和单位名单中都没有“{name}”")
    if path is None:
        return RedirectResponse(f"/unit/{quote(name, safe='')}?msg={quote(message)}", status_code=303)
    return FileResponse(path, filename=path.name)


def _unit_copy(site: Site, name: str) -> tuple[Path | None, str | None]:
    """(the copy to send, '') or (None, why not); (None, None): no such unit."""
    import zipfile

    from ..app.check import unit_copies
    from ..campaign.contacts import unit_named
    from ..intake.mail import safe_name
    from ..util.atomic import atomic_path

    status = site.status()
    ledger, config, units, contacts = site.open()
    ledger.close()
    unit = unit_named(name, units, contacts) or name
    if not any(r.status.unit == unit for r in status.rows):
        return None, None
    if not any(f.unit == unit for f in status.view.report.files):
        return None, f"{unit}还没有交回登记表，没有可以标注的表格"
    folder = site.folder / COPIES
    done = unit_copies(status.view, config, unit, folder, date.today())
    if done.failed:
        return None, f"未能生成{unit}的修改意见表：{done.failed[0][1]}"
    if not done.written:
        return None, f"{unit}目前没有需要修改的问题，不需要修改意见表"
    if len(done.written) == 1:
        return Path(done.written[0]), ""
    bundle = folder / safe_name(f"{unit}-修改意见表.zip")  # a unit's name is a stranger's: never a path
    with atomic_path(bundle) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(done.written):
            z.write(p, Path(p).name)
    return bundle, ""


async def download(request):
    from starlette.responses import FileResponse, PlainTextResponse

    site = _site(request)
    ledger, *_ = site.open()
    with ledger:
        f = ledger.file(request.path_params["fid"])
        path = ledger.path_of(f) if f is not None and f.stored else None
    if path is None or not path.is_file():
        return PlainTextResponse("404：台账中没有这个文件", status_code=404)
    return FileResponse(path, filename=Path(f.name).name or f.stored)


async def static(request):
    from starlette.responses import PlainTextResponse, Response

    from ..util.resources import templates_dir

    name = request.path_params["name"]
    types = {"style.css": "text/css; charset=utf-8", "board.js": "text/javascript; charset=utf-8"}
    if name not in types:
        return PlainTextResponse("404", status_code=404)
    return Response((templates_dir() / "web" / name).read_bytes(), media_type=types[name],
                    headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------------------ actions

async def upload(request):
    """Each upload is one delivery, recorded exactly as ``netreg intake`` records the files
    given to one run (a zip or an .eml its own)."""
    from starlette.concurrency import run_in_threadpool

    form = await _form(request)
    if form is None:
        return _forbidden()
    files = [f for f in form.getlist("files") if getattr(f, "filename", None)]
    if not files:
        return _back("/", "请先选择要登记的文件")
    received = str(form.get("received", "")).strip()
    try:
        total = sum(f.size or 0 for f in files)
        if total > MAX_REQUEST_MB * 1048576:  # sent without a declared length
            raise _Refused(413, f"一次上传的文件合计过大（{total / 1048576:.0f} MB，上限 {MAX_REQUEST_MB} MB）："
                                "请分几次上传，或用命令 netreg intake 登记")
        lines = await run_in_threadpool(_take_upload, _site(request), files, received)
    finally:
        for f in files:
            await f.close()
    from urllib.parse import urlencode

    from starlette.responses import RedirectResponse

    return RedirectResponse("/?" + urlencode({"taken": "\n".join(lines)}), status_code=303)


def _take_upload(site: Site, files: list, received: str) -> list[str]:
    """The uploaded files (Starlette's UploadFile, spooled) copied into a scratch folder in
    chunks, then recorded as one ``intake`` run."""
    import shutil

    from ..intake.mail import safe_name
    from ..app.intake import take_paths
    from ..render.campaign import intake_line
    from ..errors import NetregError
    from ..util.days import typed_time
    from ..util.oserror import os_reason
    from ..util.workdir import scratch

    ledger, config, units, contacts = site.open()
    try:
        when = typed_time(received, "收到时间") if received else None
    except NetregError as exc:
        ledger.close()
        return [str(exc)]
    work = scratch(site.folder, "upload")
    try:
        names: set[str] = set()
        for n, upload in enumerate(files, 1):
            safe = safe_name(upload.filename, number=n)  # the name as sent, only ever shown: never a path of the sender's
            if safe.casefold() in names:
                stem, dot, ext = safe.rpartition(".")
                safe = f"{stem or safe}（{n}）{dot}{ext}" if dot else f"{safe}（{n}）"
            names.add(safe.casefold())
            try:
                upload.file.seek(0)
                with open(work / safe, "xb") as out:
                    shutil.copyfileobj(upload.file, out, 1 << 20)
            except OSError as exc:  # a full disk: nothing of this upload is recorded, and it says so
                ledger.close()
                return [f"未能保存上传的文件 {safe}：{os_reason(exc)}；本次上传没有登记任何文件，请处理后重新上传"]
        with ledger:
            # received: as typed, else an .eml's Date, else now (the files were just written)
            taken = take_paths(ledger, [work], config, units, received=when, contacts=contacts)
        return [intake_line(t).plain for t in taken]
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def paper(request):
    from starlette.concurrency import run_in_threadpool

    form = await _form(request)
    if form is None:
        return _forbidden()
    unit = str(form.get("unit", ""))
    undo = form.get("undo") == "1"
    day = str(form.get("date", "")).strip()
    message = await run_in_threadpool(_paper, _site(request), unit, day, undo)
    return _back(f"/unit/{unit}", message)


def _paper(site: Site, unit: str, day: str, undo: bool) -> str:
    from ..campaign.contacts import unit_named
    from ..errors import NetregError
    from ..util.days import typed_day

    ledger, _config, units, contacts = site.open()
    name = unit_named(unit, units, contacts)
    if name is None:
        return f"单位“{unit}”不在单位名单中"
    try:
        when = None if undo else (typed_day(day, "收到日期") if day else date.today())
    except NetregError as exc:
        return str(exc)
    with ledger:
        if undo and name not in ledger.paper():
            return f"{name}：台账中没有纸质版登记，无需撤销"
        with ledger.write():
            ledger.set_paper(name, when)
    return f"{name}：已撤销纸质版登记" if undo else f"{name}：已登记纸质版（{when.isoformat()} 收到）"


async def override(request):
    from starlette.concurrency import run_in_threadpool

    form = await _form(request)
    if form is None:
        return _forbidden()
    unit = str(form.get("unit", ""))
    try:
        sid = int(str(form.get("id", "")))
    except ValueError:
        return _back(f"/unit/{unit}", "报送编号不正确")
    action = "include" if form.get("action") == "include" else "exclude"
    reason = str(form.get("reason", "")).strip()
    if not reason:
        return _back(f"/unit/{unit}", "请写明原因（记入台账）")
    message = await run_in_threadpool(_override, _site(request), sid, action, reason)
    return _back(f"/unit/{unit}", message)


def _override(site: Site, sid: int, action: str, reason: str) -> str:
    ledger, *_ = site.open()
    with ledger:
        sub = ledger.get(sid)
        if sub is None:
            return f"台账中没有第 {sid} 号报送"
        if action == "include" and sub.excluded is None:
            return f"第 {sid} 号报送没有被排除，无需恢复"
        with ledger.write():
            ledger.override(sid, action, reason)
    verb = "已排除，不再计入" if action == "exclude" else "已恢复计入"
    return f"第 {sid} 号报送（{sub.name}）{verb}；原因：{reason}"


async def assign(request):
    """指定单位 for a submission whose unit could not be told (as ``intake 文件 --unit``)."""
    from urllib.parse import urlencode

    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    form = await _form(request)
    if form is None:
        return _forbidden()
    try:
        sid = int(str(form.get("id", "")))
    except ValueError:
        return _back("/", "报送编号不正确")
    lines = await run_in_threadpool(_assign, _site(request), sid, str(form.get("unit", "")).strip())
    return RedirectResponse("/?" + urlencode({"taken": "\n".join(lines)}), status_code=303)


def _assign(site: Site, sid: int, typed: str) -> list[str]:
    from ..campaign.contacts import unit_named
    from ..app.intake import assign_unit
    from ..render.campaign import intake_line

    ledger, config, units, contacts = site.open()
    with ledger:
        unit = unit_named(typed, units, contacts)
        if unit is None:
            return [f"单位“{typed}”不在单位名单中"]
        taken = assign_unit(ledger, sid, unit, config, units)
    return [intake_line(t).plain for t in taken] or [f"台账中没有第 {sid} 号报送"]


# ------------------------------------------------------------------------------ letters (通知)

async def letters_page(request):
    from starlette.concurrency import run_in_threadpool

    site = _site(request)
    data = await run_in_threadpool(_letters_data, site)
    return _page(request, "letters.html.j2", msg=request.query_params.get("msg", ""), **data)


def _letters_data(site: Site) -> dict:
    """Who needs a letter and why, each as it will read (``app.remind.plan``, as ``netreg remind``)."""
    from ..app.remind import plan

    status = site.status()
    folder = site.folder / LETTERS
    made = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in (".docx", ".eml", ".xlsx")) \
        if folder.is_dir() else []
    ledger, config, _units, contacts = site.open()
    with ledger:
        letters = plan(ledger, config, contacts, status)
    return {"letters": letters.letters, "made": made, "sent": letters.sent, "to_go": letters.to_go,
            "smtp": letters.smtp, "sender": letters.sender}


async def letters_make(request):
    from starlette.concurrency import run_in_threadpool

    form = await _form(request)
    if form is None:
        return _forbidden()
    message = await run_in_threadpool(_letters_make, _site(request))
    return _back("/letters", message)


def _letters_make(site: Site) -> str:
    """The drafts of ``netreg remind`` into the campaign's 催报/ (the 完成日期 each asks for remembered)."""
    from ..app.remind import drafts as make_drafts

    status = site.status()
    ledger, config, units, contacts = site.open()
    with ledger:
        drafts = make_drafts(ledger, config, units, contacts, site.folder / LETTERS, status=status)
    if not drafts.letters:
        return "各单位均已报送、没有需要整改的问题，纸质版也已交齐，不需要催报。"
    return (f"已生成 {len(drafts.docx)} 份通知、{len(drafts.eml)} 份邮件草稿和催报名单，保存在活动文件夹的 {LETTERS}/ 中"
            + (f"；{len(drafts.failed)} 个单位的修改意见表未能附上" if drafts.failed else ""))


async def letters_file(request):
    return _folder_file(_site(request).folder / LETTERS, request.path_params["name"], None)


def _folder_file(folder: Path, name: str, types: dict[str, str] | None):
    """A file directly inside ``folder`` by its name, never a path the request makes up."""
    from starlette.responses import FileResponse, PlainTextResponse

    if "/" in name or "\\" in name or name.startswith(".") or (types is not None and name not in types):
        return PlainTextResponse("404：没有这个文件", status_code=404)
    path = folder / name
    if not path.is_file() or path.resolve().parent != folder.resolve():
        return PlainTextResponse("404：没有这个文件", status_code=404)
    if types is not None and name.endswith(".html"):
        return FileResponse(path, media_type=types[name])
    return FileResponse(path, filename=name, media_type=(types or {}).get(name))


async def letters_send(request):
    """发送: the drafts go out as ``remind --send --yes`` sends them, once the page's box
    confirming the recipients is ticked; the 授权码 typed is used for this request only."""
    from starlette.concurrency import run_in_threadpool

    form = await _form(request)
    if form is None:
        return _forbidden()
    if form.get("confirm") != "1":
        return _back("/letters", "请先勾选“确认发送以上邮件”")
    password = str(form.get("password", ""))
    if not password:
        return _back("/letters", "请输入发信邮箱的授权码")
    lines = await run_in_threadpool(_letters_send, _site(request), password)
    del password
    return _page(request, "result.html.j2", title="发送结果", lines=lines, back="/letters")


def _letters_send(site: Site, password: str) -> list[str]:
    from ..app import remind
    from ..errors import NetregError

    status = site.status()
    ledger, config, units, contacts = site.open()
    if not config.mail.smtp_host:
        ledger.close()
        return ["netreg.toml 中没有设置发信服务器：请在 [mail] 中填写 smtp_host 和 user"]
    lines: list[str] = []
    with ledger:
        drafts = remind.drafts(ledger, config, units, contacts, site.folder / LETTERS, status=status)
        going = remind.pending(ledger, drafts)
        lines += [f"{unit}：这份通知已发送过（{when[:16]}），不再发送" for unit, when in going.done]
        lines += going.again
        if not going.todo:
            return lines + ["没有需要发送的邮件。"]
        try:
            _outcomes, closing, _all = remind.send(ledger, config, going.todo, password, lines.append)
        except NetregError as exc:
            return lines + [str(exc)]
        lines.append(closing)
    return lines


async def mail_fetch(request):
    """收取邮件: ``intake --mail`` with the 授权码 typed into the page, used for this request only."""
    from urllib.parse import urlencode

    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    form = await _form(request)
    if form is None:
        return _forbidden()
    password = str(form.get("password", ""))
    if not password:
        return _back("/", "请输入邮箱的授权码")
    lines = await run_in_threadpool(_mail_fetch, _site(request), password)
    del password
    return RedirectResponse("/?" + urlencode({"taken": "\n".join(lines)}), status_code=303)


def _mail_fetch(site: Site, password: str) -> list[str]:
    from ..errors import NetregError
    from ..app.intake import take_mail
    from ..render.campaign import message_line

    ledger, config, units, contacts = site.open()
    if not config.mail.imap_host or not config.mail.user:
        ledger.close()
        return ["netreg.toml 中没有设置邮箱：请在 [mail] 中填写 imap_host 和 user"]
    lines: list[str] = []
    with ledger:
        try:
            fetched = take_mail(ledger, config, units, contacts, password,
                                on_message=lambda m: lines.extend(message_line(m).plain.split("\n")))
        except NetregError as exc:
            return lines + [str(exc)]
    lines.append(f"共收取 {len(fetched)} 封新邮件" if fetched else "没有新邮件")
    return lines


# ------------------------------------------------------------------------------ summary (汇总)

async def summary_page(request):
    return _job_page(request, "summary.html.j2", "job", SUMMARY, SUMMARY_FILES)


def _job_page(request, template: str, slot: str, folder: str, names: dict[str, str]):
    """A page of a background job: its progress, and the files it has made so far."""
    site = _site(request)
    files = [n for n in names if (site.folder / folder / n).is_file()]
    return _page(request, template, job=getattr(site, slot), files=files, msg=request.query_params.get("msg", ""))


async def summary_run(request):
    form = await _form(request)
    if form is None:
        return _forbidden()
    if not _start(_site(request), "job", _summary_job, "汇总"):
        return _back("/summary", "汇总正在生成，请稍候")
    return _back("/summary")


def _start(site: Site, slot: str, work, what: str, *args) -> bool:
    """Run ``work(site, job, *args)`` in the background as the site's job ``slot`` (the page can
    be left and come back to); False when that job is already running."""
    with site.lock:
        running = getattr(site, slot)
        if running is not None and running.state == "running":
            return False
        job = Job()
        setattr(site, slot, job)
    threading.Thread(target=_run, args=(work, site, job, what, *args), daemon=True).start()
    return True


def _run(work, site: Site, job: Job, what: str, *args) -> None:
    """A background job: what fails is one Chinese line on the page (NETREG_DEBUG=1 prints why)."""
    from ..errors import NetregError
    from ..util.debug import note
    from ..util.oserror import os_reason

    try:
        work(site, job, *args)
        if job.state == "running":
            job.state = "done"
    except NetregError as exc:
        job.state, job.lines = "failed", [str(exc)]
    except OSError as exc:
        job.state, job.lines = "failed", [f"无法写入{what}：{os_reason(exc)}"]
    except Exception as exc:  # noqa: BLE001
        note(exc)
        job.state, job.lines = "failed", [f"生成{what}时出错（设置环境变量 NETREG_DEBUG=1 后重新启动可看到技术细节）"]
    finally:
        job.step = "已完成" if job.state == "done" else "未完成"


def _summary_job(site: Site, job: Job) -> None:
    """``netreg merge`` on the counted submissions, into the campaign's 汇总/ folder."""
    from ..app.merge import merge_campaign
    from ..model.issues import Severity

    ledger, config, units, _ = site.open()
    folder = site.folder / SUMMARY
    result = merge_campaign(ledger, config, units, folder / "汇总.xlsx", folder / "汇总报告.html", progress=job)
    job.lines = [f"读入 {result.rows_in} 行，写入汇总 {result.rows_out} 行"
                 + ("（一致）" if result.rows_in == result.rows_out else "（不一致，请检查）"),
                 f"{len(result.statuses)} 个单位；错误 {result.count(Severity.ERROR)} 个，"
                 f"警告 {result.count(Severity.WARNING)} 个"]
    job.lines += [f"未能保存 {p.name}：{why}" for p, why in result.failed]
    if result.failed:
        job.state = "failed"


async def summary_file(request):
    return _folder_file(_site(request).folder / SUMMARY, request.path_params["name"], SUMMARY_FILES)


# ------------------------------------------------------------------------------ 下一年 (next year)

async def next_page(request):
    return _job_page(request, "next.html.j2", "next_job", NEXT, NEXT_FILES)


async def next_run(request):
    """An earlier summary (last year's 汇总.xlsx) uploaded: compared with this campaign (diff),
    and each unit's forms pre-filled with its rows (template --prefill), in the background."""
    form = await _form(request)
    if form is None:
        return _forbidden()
    upload = form.get("summary")
    if not getattr(upload, "filename", None):
        return _back("/next", "请选择上一次的汇总表（.xlsx）")
    data = await upload.read()
    await upload.close()
    if not _start(_site(request), "next_job", _next_job, "", data, form.get("prefill") == "1"):
        return _back("/next", "正在生成，请稍候")
    return _back("/next")


def _next_job(site: Site, job: Job, data: bytes, prefill: bool) -> None:
    from ..app.nextyear import next_year
    from ..util.atomic import atomic_path

    folder = site.folder / NEXT
    folder.mkdir(exist_ok=True)
    earlier = folder / "上一次汇总.xlsx"
    with atomic_path(earlier) as tmp:
        tmp.write_bytes(data)
    ledger, config, units, contacts = site.open()
    job.lines = next_year(ledger, config, units, contacts, earlier, folder, prefill=prefill, progress=job)


async def next_file(request):
    return _folder_file(_site(request).folder / NEXT, request.path_params["name"], NEXT_FILES)
