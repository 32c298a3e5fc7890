"""Which Ray cluster `dispatch --address` names, and whether it answers as one,
before `ray.init` is asked to join it.

    address = cluster_address("auto", timeout=30)   # 'HOST:PORT', or DispatchError

Why: `ray.init` on an address where no cluster answers retries for minutes with
a warning each time, and on a port that answers but is not Ray it may wait for
ever. Here each fault is one line naming the address and the cause, within the
timeout (`--connect-timeout`):

- 'auto' is looked up where Ray looks (RAY_ADDRESS, then the address `ray start`
  left in Ray's temporary folder); none found is said as such;
- HOST:PORT must accept a connection (nothing listening, no route, no answer);
- and must speak gRPC (HTTP/2) as Ray's GCS, or a Ray Client server, does: one
  that closes the connection or answers something else is not a Ray cluster.
  A gRPC server that is not Ray is not told apart; a cluster with TLS
  (RAY_USE_TLS) is only checked for the connection.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

from mnistperf.dispatch.collect import DispatchError

NO_CLUSTER = ("no running Ray cluster found for --address auto; start one with "
              "`ray start --head` or give HOST:PORT")
# An HTTP/2 client's first bytes: the connection preface and an empty SETTINGS frame.
# A gRPC server answers with a SETTINGS frame of its own (RFC 9113, 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
FRAME_HEADER, SETTINGS = 9, 4


def cluster_address(address: str, timeout: float) -> str:
    """The address to join: 'auto' looked up; HOST:PORT checked to answer as Ray
    within `timeout` seconds; DispatchError (one line) otherwise."""
    label = address
    if address == "auto":
        address, source = _auto()
        label = f"auto ({address}, from {source})"
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if sep and port.isdigit():  # other forms Ray resolves itself
        _check(label, host.strip("[]"), int(port), timeout)
    return address


def _auto() -> tuple[str, str]:
    """The cluster 'auto' means, and where it was found, as Ray finds it."""
    env = os.environ.get("RAY_ADDRESS", "")
    if env and env != "auto":
        return env, "RAY_ADDRESS"
    path = _ray_tmp() / "ray_current_cluster"
    try:
        found = path.read_text().strip()
    except OSError:
        found = ""
    if not found:
        raise DispatchError(NO_CLUSTER)
    return found, str(path)


def _ray_tmp() -> Path:
    """Ray's temporary folder, where `ray start` notes its cluster's address."""
    base = os.environ.get("RAY_TMPDIR") or (os.environ.get("TMPDIR")
                                            if sys.platform.startswith("linux") else None)
    return Path(base or "/tmp") / "ray"


def _check(label: str, host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        raise _unreachable(label, f"no answer within {timeout:g} s") from None
    except OSError as exc:
        raise _unreachable(label, exc.strerror or str(exc)) from None
    with sock:
        if os.environ.get("RAY_USE_TLS", "").lower() in ("1", "true"):
            return  # a TLS handshake comes first: nothing to tell from plain bytes
        cause = _not_grpc(sock, max(0.1, deadline - time.monotonic()), timeout)
    if cause:
        raise DispatchError(f"--address {label}: not a Ray cluster ({cause}); give the "
                            f"address `ray start --head` printed (port 6379 unless set)")


def _unreachable(label: str, cause: str) -> DispatchError:
    return DispatchError(f"--address {label}: cannot reach that Ray cluster ({cause}); is "
                         f"it running there? (--connect-timeout sets the wait)")


def _not_grpc(sock: socket.socket, seconds: float, timeout: float) -> str | None:
    """Why the server on `sock` is not gRPC, or None when it answers as gRPC does."""
    closed = "it closed the connection without a gRPC answer"
    sock.settimeout(seconds)
    answer = b""
    try:
        sock.sendall(PREFACE)
        while len(answer) < FRAME_HEADER:
            chunk = sock.recv(FRAME_HEADER - len(answer))
            if not chunk:
                return closed
            answer += chunk
    except socket.timeout:
        return f"no gRPC answer within {timeout:g} s"
    except ConnectionError:  # reset or broken pipe: closed before or while we spoke
        return closed
    except OSError as exc:
        return f"the connection failed: {exc.strerror or exc}"
    if answer[3] != SETTINGS or answer[5:9] != bytes(4):
        return f"it answered {answer[:FRAME_HEADER]!r}, not gRPC"
    return None
