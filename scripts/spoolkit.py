"""What the daemon's benchmark, soak and crash scripts share: watching spool directories
through inotify, receiving sd_notify messages, percentiles, process readings and the rules
to run with. One copy, so that the three measure the same way.
"""

import ctypes
import importlib.util
import os
import select
import socket
import struct
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000
_EVENT_HEADER = struct.calcsize("iIII")


def watch_moves(directories, stop, ready, on_event):
    """Calls on_event(label, name_bytes, now_ns) for each name renamed into one of
    `directories` ({label: path}), and on_event(None, None, now_ns) when the kernel's queue
    overflowed (some events were lost), until `stop` is set. Times are CLOCK_MONOTONIC, as
    the producers' own, so latencies compare. Sets `ready` once the watches are in place."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = libc.inotify_init1(0)
    labels = {}
    for label, path in directories.items():
        labels[libc.inotify_add_watch(fd, path.encode(), IN_MOVED_TO)] = label
    ready.set()
    try:
        while True:
            readable, _, _ = select.select([fd], [], [], 0.2)
            if not readable:
                if stop.is_set():
                    return
                continue
            now = time.monotonic_ns()
            data = os.read(fd, 1 << 20)
            offset = 0
            while offset + _EVENT_HEADER <= len(data):
                wd, mask, _, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + _EVENT_HEADER: offset + _EVENT_HEADER + length].split(b"\0", 1)[0]
                offset += _EVENT_HEADER + length
                if mask & IN_Q_OVERFLOW:
                    on_event(None, None, now)
                    continue
                label = labels.get(wd)
                if label and name:
                    on_event(label, name, now)
    finally:
        os.close(fd)


def percentile(values, fraction):
    """The nearest-rank percentile of `values` (unsorted); nan when empty."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


class NotifyListener:
    """An sd_notify socket, as systemd would bind it: pass `path` as NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setblocking(False)

    def drain(self):
        """Every message received so far."""
        messages = []
        while True:
            try:
                messages.append(self.sock.recv(4096).decode(errors="replace"))
            except BlockingIOError:
                return messages

    def wait_for(self, word, timeout, process=None):
        """True once a message containing `word` arrives within `timeout` seconds; False
        on timeout or when `process` (a Popen) exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(word in m for m in self.drain()):
                return True
            if process is not None and process.poll() is not None:
                return False
            select.select([self.sock], [], [], min(0.05, max(0.0, deadline - time.monotonic())))
        return False

    def close(self):
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def proc_status(pid):
    """Resident memory (MiB), open file descriptors and threads of a running process."""
    rss = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = len(os.listdir(f"/proc/{pid}/task"))
    return rss, fds, threads


def script_module(name):
    """Another script of this folder as a module (`bench-scan`, `realtraffic`): their names
    have hyphens, so `import` cannot load them."""
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), os.path.join(REPO, "scripts", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_rules():
    """The shipped rules, or the test fixture's when they are absent."""
    shipped = os.path.join(REPO, "rules")
    if os.path.isfile(os.path.join(shipped, "escalation.yaml")):
        return shipped
    return os.path.join(REPO, "Tests", "Fixtures", "rules-basic")
