import Glibc

/// What other threads ask of the main loop (stop, reload) and the pipe that wakes it from
/// `poll` to look: signal handlers, `Daemon.stop()`, and the committer when posts finish.
final class MainLoopControl: Sendable {
    private let stopFlag = Locked(false)
    private let reloadFlag = Locked(false)
    /// The end `poll` watches; the other is written to wake it.
    let readFD: Int32
    private let writeFD: Int32

    init() throws(SystemError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError("pipe", "(wake-up pipe)") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    var stopRequested: Bool { stopFlag.current }

    func requestStop() {
        stopFlag.withLock { $0 = true }
        wake()
    }

    func requestReload() {
        reloadFlag.withLock { $0 = true }
        wake()
    }

    /// Whether a reload was asked for since the last call.
    func takeReloadRequest() -> Bool {
        reloadFlag.withLock { let value = $0; $0 = false; return value }
    }

    func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeFD, &byte, 1)
    }

    /// Empties the pipe after `poll` saw it readable.
    func drainWakeUps() {
        var sink = [UInt8](repeating: 0, count: 64)
        while Glibc.read(readFD, &sink, sink.count) > 0 {}
    }
}
