"""Starting and stopping the server: a free port on the loopback, the address with its
token printed (and opened in the browser), Ctrl-C stops it cleanly."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Callable


def free_port(host: str, wanted: int) -> int:
    """``wanted`` when it can be bound on ``host``, else one the system gives."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in (wanted, 0):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port")


def run(folder: Path, *, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True,
        say: Callable[[str], None] = print) -> None:
    import uvicorn

    from ..pipeline import remember_always
    from .app import create_app

    remember_always()  # the board, the unit pages and the rounds read each stored file once
    app = create_app(folder)
    site = app.state.site
    port = free_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/?token={site.token}"
    say(f"报送台账网页已启动：{url}")
    say("（请用这个完整网址打开；按 Ctrl-C 停止）")
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    say("报送台账网页已停止。")
