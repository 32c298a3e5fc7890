"""Defer signals during a critical write: `Deferred` holds SIGINT and SIGTERM back
while a block runs, says so in one line the first time one comes, and delivers
them once the block is done.

    with Deferred("mnistperf: {signal} while writing the run's files: finishing "
                  "them first (a few seconds)"):
        write_the_files()
    # a Ctrl-C that came meanwhile is raised here (KeyboardInterrupt), files written

    held = Deferred(note).start()   # or across calls: from here ...
    held.stop(deliver=False)        # ... to here, the signals held dropped

Why: the end of a session writes benchmark.json, tables, figures and the page in
a few seconds; a Ctrl-C landing there (often the second one, pressed while the
first one's run is being written) would cut that short with a traceback. Held
back, it costs those seconds and ends the run as interrupted all the same.

Only the main thread may set signal handlers: elsewhere `Deferred` holds nothing
back. A signal that is ignored (SIG_IGN) or handled outside Python stays as it
is. Nested, the inner one holds nothing of its own: the outer one delivers.
"""

from __future__ import annotations

import os
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)
NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class Deferred:
    """Holds `signals` back from `start` (or entering it) to `stop` (or leaving it);
    `note` is the line said on the first one, its `{signal}` the signal's name
    (Ctrl-C, SIGTERM). `received`: the signals held, in order."""

    def __init__(self, note: str, signals=SIGNALS):
        self.note = note
        self.signals = signals
        self.received: list[int] = []
        self._old: dict[int, object] = {}  # signal -> the handler before ours

    def start(self) -> "Deferred":
        if self._old or threading.current_thread() is not threading.main_thread():
            return self  # holding already, or not allowed to
        for signum in self.signals:
            old = signal.getsignal(signum)
            if old not in (signal.SIG_IGN, None) \
                    and not isinstance(getattr(old, "__self__", None), Deferred):
                self._old[signum] = signal.signal(signum, self._hold)
        return self

    def _hold(self, signum, frame) -> None:
        if not self.received:
            # Straight to the file descriptor: a handler runs between any two
            # bytecodes, maybe inside a write to sys.stderr's own buffer.
            line = self.note.format(signal=NAMES.get(signum, signal.Signals(signum).name))
            os.write(2, f"{line}\n".encode())
        self.received.append(signum)

    def stop(self, deliver: bool = True) -> None:
        """The old handlers back; with `deliver`, the first signal held (however many
        came) goes to its own handler: for SIGINT, Python's KeyboardInterrupt, raised
        here."""
        for signum, old in self._old.items():
            signal.signal(signum, old)
        self._old.clear()
        if deliver and self.received:
            signal.raise_signal(self.received[0])

    def __enter__(self) -> "Deferred":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
