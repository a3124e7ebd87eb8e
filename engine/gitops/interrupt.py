"""Signals that must not kill a publish on the spot.

SIGTERM (what CI runners and ``kubectl delete`` send) and SIGHUP end a Python process at once,
skipping every ``finally``: the private repository would stay behind and a running ``git push``
would go on after skrender stopped.  Inside :func:`terminate_raises` they raise
:class:`Terminated` instead, so the stack unwinds like on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) arrived: unwind, so the private repository is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass
class SignalState:
    """``cleaning``: set once unwinding (or the caller's clean-up) started; later signals
    are ignored so they cannot cut the clean-up short."""

    cleaning: bool = False
    previous: dict[int, object] = field(default_factory=dict)


@contextlib.contextmanager
def terminate_raises() -> Iterator[SignalState]:
    """While publishing, SIGTERM and SIGHUP unwind the stack (``finally`` blocks run and the
    running git is killed with its process group by :mod:`engine.core.proc`) instead of
    killing the process on the spot.  Only from the main thread, only where the signal still
    has its default action (a caller's own handler is kept)."""
    state = SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum: int, _frame: object) -> None:
        if not state.cleaning:
            state.cleaning = True  # one unwinding; a second signal must not cut cleanup short
            raise Terminated(signum)

    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            state.previous[signum] = signal.signal(signum, handler)
    try:
        yield state
    finally:
        for signum, previous in state.previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
