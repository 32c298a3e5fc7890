"""Deferred: signals held back while a block runs, said once, delivered after."""

import os
import signal
import threading

import pytest

from mnistperf.shield import Deferred

NOTE = "writing: {signal} held"


@pytest.fixture
def python_sigint():
    """SIGINT raising KeyboardInterrupt, as in a foreground run (a shell's background
    job has it ignored)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def test_a_ctrl_c_inside_is_said_once_and_raised_after_the_block(python_sigint, capfd):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with Deferred(NOTE) as held:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            done.append("written")
    assert done == ["written"] and held.received == [signal.SIGINT] * 2
    assert capfd.readouterr().err == "writing: Ctrl-C held\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_goes_to_its_own_handler_after_the_block(capfd):
    seen = []
    old = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with Deferred(NOTE):
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == []
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, old)
    assert capfd.readouterr().err == "writing: SIGTERM held\n"


def test_without_a_signal_nothing_is_said_or_raised(python_sigint, capfd):
    with Deferred(NOTE) as held:
        pass
    assert held.received == [] and capfd.readouterr().err == ""


def test_nested_the_outer_one_delivers(python_sigint, capfd):
    with pytest.raises(KeyboardInterrupt):
        with Deferred(NOTE):
            with Deferred("inner: {signal}") as inner:
                os.kill(os.getpid(), signal.SIGINT)
            assert inner.received == []
    assert capfd.readouterr().err == "writing: Ctrl-C held\n"


def test_an_ignored_signal_stays_ignored(capfd):
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with Deferred(NOTE) as held:
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, old)
    assert held.received == [] and capfd.readouterr().err == ""


def test_outside_the_main_thread_nothing_is_held(python_sigint):
    handlers = []

    def block():
        with Deferred(NOTE):
            handlers.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=block)
    thread.start()
    thread.join()
    assert handlers == [signal.default_int_handler]


def test_held_across_calls_and_dropped_on_stop_without_delivery(python_sigint, capfd):
    held = Deferred(NOTE).start()
    assert held.start() is held  # once: a second start changes nothing
    os.kill(os.getpid(), signal.SIGINT)
    held.stop(deliver=False)
    assert held.received == [signal.SIGINT]
    assert capfd.readouterr().err == "writing: Ctrl-C held\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
