"""How a run answers Ctrl-C and SIGTERM: SIGTERM ends it as Ctrl-C does, and from
the moment the run is ending (the first Ctrl-C, or its files being written) a
second one is held until the files are written.

    signals = RunSignals("mnistperf", warn=print)
    signals.catch_sigterm()          # SIGTERM -> KeyboardInterrupt, as Ctrl-C
    with signals.ending(run_dir):    # the run's files: a Ctrl-C waits for them
        write_the_files()
    signals.interrupted              # one came (or got through): the run ends so
    signals.release(); signals.release_sigterm()

Holding is mnistperf.shield's; this module decides when, and what is said.
Nothing here imports pytest.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from mnistperf.shield import Deferred

# Said the moment a Ctrl-C (or SIGTERM) lands while the session writes its files,
# after "mnistperf: " (or "dispatch: ").
DEFERRED_NOTE = "{signal} while writing the run's files: finishing them first (a few seconds)"


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


class RunSignals:
    def __init__(self, prefix: str, warn=None):
        """`prefix`: what the held-signal line starts with; `warn(line)` says a line."""
        self.prefix = prefix
        self.warn = warn or (lambda line: None)
        self.interrupted = False  # a Ctrl-C or SIGTERM came while the run ended
        self._sigterm = None  # the SIGTERM handler before ours
        self._held = None  # the Deferred holding Ctrl-C and SIGTERM, while the run ends

    def catch_sigterm(self) -> None:
        """SIGTERM ends the run the way Ctrl-C does (KeyboardInterrupt): the running
        case is recorded as interrupted and the run is written from its records.
        Only from the main thread; `release_sigterm` puts the old handler back."""
        if threading.current_thread() is threading.main_thread():
            self._sigterm = signal.signal(signal.SIGTERM, _interrupt)

    def release_sigterm(self) -> None:
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
            self._sigterm = None

    def hold(self) -> None:
        """The run is ending: a Ctrl-C (or SIGTERM) from now on is held back, said in
        one line, until `release`. Once."""
        if self._held is None:
            self._held = Deferred(f"{self.prefix}: {DEFERRED_NOTE}").start()

    def release(self) -> None:
        """Ctrl-C and SIGTERM as before `hold`; those held are dropped: the run they
        were meant to stop has ended (`interrupted` says so)."""
        held, self._held = self._held, None
        if held is not None:
            held.stop(deliver=False)

    @contextmanager
    def ending(self, run_dir):
        """Around the end of a run with a folder (`finish`, and what the caller ends
        with it): Ctrl-C and SIGTERM are held until the caller releases them, after
        the run's files are written; one that came sets `interrupted`. One that gets
        through all the same (raised before they were held, or outside the main
        thread) keeps the records, says so in one line, and also sets
        `interrupted`: never a KeyboardInterrupt."""
        if run_dir is not None:
            self.hold()
        try:
            yield
        except KeyboardInterrupt:
            self.interrupted = True
            if run_dir is not None:
                self.warn(f"interrupted while writing the run's files; the case records are "
                          f"kept in {run_dir}; `python -m mnistperf report {run_dir}` "
                          f"rebuilds the tables and page")
        if self._held is not None and self._held.received:
            self.interrupted = True
