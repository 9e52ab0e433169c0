import Foundation
import WardenCore
import Glibc

/// The spool's directories under one state root, as DESIGN.md lays them out.
public struct SpoolLayout: Sendable {
    public var root: String
    public var inbox: String { root + "/inbox" }
    public var processing: String { root + "/processing" }
    public var outbox: String { root + "/outbox" }
    public var done: String { root + "/done" }
    public var failed: String { root + "/failed" }
    public var state: String { root + "/state" }
    public var decisionsLog: String { root + "/decisions.jsonl" }
    public var ledger: String { state + "/ledger.sqlite" }

    public init(root: String) { self.root = root }
}

/// Why a file could not be judged; `category` is the metric label, `reason` goes into
/// failed/NAME.error for a person to read.
struct Rejection: Error, Sendable {
    var category: String
    var reason: String
}

/// The Postfix-style spool: each stage of a post's life is a directory, and `rename(2)`
/// is the commit point between stages. After a crash at any instant the directories still
/// tell the truth: a file in inbox/ was never claimed, one in processing/ must be judged
/// again, one in done/ or failed/ is finished.
///
/// Every operation works on directory file descriptors opened once (`renameat`, `openat`)
/// so that a rename of the state root while running cannot redirect writes elsewhere.
final class Spool: Sendable {
    let layout: SpoolLayout
    let inbox: Int32
    let processing: Int32
    let outbox: Int32
    let done: Int32
    let failed: Int32

    init(layout: SpoolLayout) throws(SystemError) {
        self.layout = layout
        for path in [layout.inbox, layout.processing, layout.outbox, layout.done, layout.failed, layout.state] {
            try POSIX.makeDirectory(path)
        }
        inbox = try POSIX.openDirectory(layout.inbox)
        processing = try POSIX.openDirectory(layout.processing)
        outbox = try POSIX.openDirectory(layout.outbox)
        done = try POSIX.openDirectory(layout.done)
        failed = try POSIX.openDirectory(layout.failed)
    }

    deinit {
        for fd in [inbox, processing, outbox, done, failed] { close(fd) }
    }

    /// Names the daemon must never touch: dot-files are producers' files in the making.
    static func isCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.isEmpty
    }

    enum Claim { case claimed, gone, busy }

    /// Claims `name` by renaming it from inbox/ into processing/, never over a file of the
    /// same name still being judged (a producer reusing a name must not make a post vanish).
    /// `.gone`: another claim, or the producer took it back: not an error. `.busy`: a post
    /// of that name is in processing/; try again once it is finished.
    func claim(_ name: String) throws(SystemError) -> Claim {
        if NoReplace.rename(inbox, name, processing, name) == 0 { return .claimed }
        if errno == ENOENT { return .gone }
        if errno == EEXIST { return .busy }
        throw SystemError("claim (rename into processing/)", layout.inbox + "/" + name)
    }

    /// Reads a claimed file, refusing anything that is not a regular file. `O_NOFOLLOW`
    /// means a symlink in the inbox (say, to /etc/passwd) is refused, never read;
    /// `O_NONBLOCK` means a FIFO cannot hang the daemon in `open`.
    func read(_ name: String, maxBytes: Int) -> Result<(bytes: [UInt8], modified: Date), Rejection> {
        let fd = openat(processing, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        if fd < 0 {
            let code = errno
            switch code {
            case ELOOP:
                return .failure(Rejection(category: "not_regular_file", reason: "is a symbolic link; Warden never follows links in the inbox: rename the post file itself into inbox/"))
            case EACCES, EPERM:
                return .failure(Rejection(category: "unreadable", reason: "permission denied reading the post; make it readable by the warden user before renaming it into inbox/"))
            default:
                return .failure(Rejection(category: "unreadable", reason: "cannot open: \(String(cString: strerror(code)))"))
            }
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 {
            return .failure(Rejection(category: "unreadable", reason: "cannot stat: \(String(cString: strerror(errno)))"))
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            let kind = type == S_IFDIR ? "a directory" : type == S_IFIFO ? "a FIFO" : type == S_IFSOCK ? "a socket" : "not a regular file"
            return .failure(Rejection(category: "not_regular_file", reason: "is \(kind); only regular files are posts"))
        }
        let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
        let size = Int(info.st_size)
        if size > maxBytes {
            return .failure(Rejection(category: "too_large", reason: "is \(size) bytes, over the limit of \(maxBytes) bytes (limits.max_file_bytes in warden.yaml)"))
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let n = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress.map { $0 + offset }, size - offset)
            }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure(Rejection(category: "unreadable", reason: "read error: \(String(cString: strerror(errno)))"))
            }
            if n == 0 { break }
            offset += n
        }
        if offset < size { bytes.removeLast(size - offset) }
        return .success((bytes, modified))
    }

    /// Names in processing/ and inbox/, oldest first by modification time (the producer's
    /// write order), so that a rescan keeps an author's posts in the order they were written.
    func pending(in directory: String) throws(SystemError) -> [String] {
        let dirFD = directory == layout.processing ? processing : inbox
        let names = try POSIX.listDirectory(directory).filter(Self.isCandidate)
        var stamped: [(name: String, time: Int)] = []
        stamped.reserveCapacity(names.count)
        for name in names {
            var info = stat()
            if fstatat(dirFD, name, &info, AT_SYMLINK_NOFOLLOW) != 0 { continue }
            stamped.append((name, info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec))
        }
        stamped.sort { $0.time != $1.time ? $0.time < $1.time : $0.name < $1.name }
        return stamped.map(\.name)
    }

    /// Removes leftovers of a crash in the middle of writing: temporary action and error
    /// files (`.NAME.tmp`). Their final versions are written again when the posts still in
    /// processing/ are judged again.
    func removeTemporaryFiles() throws(SystemError) {
        for (dirFD, path) in [(outbox, layout.outbox), (failed, layout.failed)] {
            for name in try POSIX.listDirectory(path) where name.hasPrefix(".") && name.hasSuffix(".tmp") {
                unlinkat(dirFD, name, 0)
            }
        }
    }
}
