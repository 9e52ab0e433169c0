import Foundation
import WardenCore
import Glibc

/// The sd_notify protocol, written by hand: one datagram per message to the AF_UNIX socket
/// named in `$NOTIFY_SOCKET` (a path, or an abstract name written with a leading '@').
/// Linking libsystemd for this would add a C dependency for a dozen lines of code.
///
/// Without `$NOTIFY_SOCKET` (not under systemd, or Type= is not notify) every call is a no-op.
public final class SystemdNotifier: Sendable {
    private let socketFD: Int32
    private let address: [UInt8]
    /// Half of `$WATCHDOG_USEC`, the interval at which to send WATCHDOG=1; nil if not asked for.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var watchdog: Duration?
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            watchdog = .microseconds(Int64(usec / 2))
        }
        watchdogInterval = watchdog
        guard let path = environment["NOTIFY_SOCKET"], path.hasPrefix("/") || path.hasPrefix("@"), path.utf8.count < 108 else {
            socketFD = -1
            address = []
            return
        }
        var bytes = Array(path.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        address = bytes
        socketFD = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    deinit { if socketFD >= 0 { close(socketFD) } }

    /// Sends one message, e.g. "READY=1\nSTATUS=…". Failures are ignored: systemd going
    /// away must never take the daemon down with it.
    public func notify(_ message: String) {
        guard socketFD >= 0 else { return }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { path in
            for (index, byte) in address.enumerated() { path[index] = byte }
        }
        // Abstract names are not NUL-terminated: the length says where they end.
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path).map { $0 + address.count + (address[0] == 0 ? 0 : 1) } ?? 0)
        let bytes = Array(message.utf8)
        _ = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &addr) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                    sendto(socketFD, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length)
                }
            }
        }
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }

    /// RELOADING=1 must carry the monotonic time for Type=notify-reload, and systemd's
    /// older Type=notify accepts it too.
    public func reloading() {
        let usec = POSIX.monotonicNanoseconds() / 1000
        notify("RELOADING=1\nMONOTONIC_USEC=\(usec)\nSTATUS=Reloading rules")
    }

    public func stopping() { notify("STOPPING=1\nSTATUS=Stopping: finishing posts in flight") }

    public func status(_ text: String) { notify("STATUS=\(text)") }

    public func watchdog() { notify("WATCHDOG=1") }
}
