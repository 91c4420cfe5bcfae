"""What went wrong inside netreg, for whoever fixes it: with NETREG_DEBUG=1 the traceback goes
to standard error. The user's own message never names a Python or Rust exception class."""

from __future__ import annotations

import os
import sys
import traceback


def note(exc: BaseException) -> None:
    if os.environ.get("NETREG_DEBUG") not in (None, "", "0"):
        traceback.print_exception(exc, file=sys.stderr)


HINT = "设置环境变量 NETREG_DEBUG=1 后再运行一次可看到技术细节"
