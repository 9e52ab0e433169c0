import Foundation
import WardenCore
import Glibc

/// inotify over Glibc (no C shim): tells which names appeared in the watched directories.
///
/// Only IN_MOVED_TO (a producer's rename into the inbox, the protocol's normal case) and
/// IN_CLOSE_WRITE (a producer that writes in place, against the protocol but common) are
/// asked for. inotify can drop events when its queue overflows; then `overflowed` is set and
/// the caller rescans the directory, which is also done at start-up and every 30 s, so a
/// missed event delays a post but never loses it.
final class DirectoryWatcher {
    let fd: Int32
    private var watches: [Int32: String] = [:]
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    struct Event {
        var directory: String
        var name: String
        var mask: UInt32
    }

    init() throws(SystemError) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd < 0 { throw SystemError("inotify_init1", "(inotify)") }
    }

    deinit { close(fd) }

    func watch(_ path: String, mask: UInt32 = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE)) throws(SystemError) {
        let descriptor = inotify_add_watch(fd, path, mask | UInt32(IN_ONLYDIR))
        if descriptor < 0 { throw SystemError("inotify_add_watch", path) }
        watches[descriptor] = path
    }

    /// Reads every pending event without blocking. `overflowed` is true if the kernel
    /// dropped events (IN_Q_OVERFLOW): rescan.
    func drain() -> (events: [Event], overflowed: Bool) {
        var events: [Event] = []
        var overflowed = false
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let wd = raw.load(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.load(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(raw.load(fromByteOffset: offset + 12, as: UInt32.self))
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true }
                    if length > 0, let directory = watches[wd] {
                        let nameBytes = raw[(offset + header)..<(offset + header + length)].prefix { $0 != 0 }
                        events.append(Event(directory: directory, name: String(decoding: nameBytes, as: UTF8.self), mask: mask))
                    }
                    offset += header + length
                }
            }
        }
        return (events, overflowed)
    }
}
