import Foundation
import HeapModule
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
    public var ledger: String { Self.ledgerPath(stateDirectory: state) }

    static func ledgerPath(stateDirectory: String) -> String { stateDirectory + "/ledger.sqlite" }

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
///
/// The one owner of every move between stages, as Postfix's queue manager is: claim
/// (inbox/ → processing/), publish an action file (outbox/ temporary → final name), fail a
/// post (failed/ temporaries → final names, processing/ → failed/) and finish it
/// (processing/ → done/). Nobody else renames, writes or unlinks in the spool; *when* each
/// move may happen (the commit order) is the `Committer`'s.
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
        try oldestPending(in: directory, limit: .max).names
    }

    /// The `limit` oldest names (by modification time, then name) and whether there are more.
    /// Walks the directory once, keeping only `limit` names (a bounded heap), so that an
    /// inbox far behind costs memory for `limit` names, not for the whole backlog.
    func oldestPending(in directory: String, limit: Int) throws(SystemError) -> (names: [String], more: Bool) {
        let dirFD = directory == layout.processing ? processing : inbox
        var oldest = Heap<Stamped>()
        var more = false
        try POSIX.forEachEntry(in: directory) { name in
            guard Self.isCandidate(name) else { return }
            var info = stat()
            if fstatat(dirFD, name, &info, AT_SYMLINK_NOFOLLOW) != 0 { return }
            oldest.insert(Stamped(time: info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec, name: name))
            if oldest.count > limit {
                _ = oldest.popMax()
                more = true
            }
        }
        var names: [String] = []
        names.reserveCapacity(oldest.count)
        while let next = oldest.popMin() { names.append(next.name) }
        return (names, more)
    }

    private struct Stamped: Comparable {
        var time: Int
        var name: String
        static func < (a: Stamped, b: Stamped) -> Bool { a.time != b.time ? a.time < b.time : a.name < b.name }
    }

    // MARK: outbox/: action files

    /// Writes an action file under a dot-named temporary, not flushed (the committer's
    /// syncfs does that); invisible to consumers until `publishActionFile`.
    func writeActionTemporary(_ temporary: String, bytes: [UInt8]) throws(SystemError) {
        try POSIX.writeFile(dir: outbox, name: temporary, bytes: bytes, what: "outbox/\(temporary)")
    }

    /// Flushes one temporary, where syncfs is unavailable.
    func syncActionTemporary(_ temporary: String) throws(SystemError) {
        try POSIX.fsyncFile(dir: outbox, name: temporary, what: "outbox/\(temporary)")
    }

    /// Renames a written temporary to `name`, replacing an earlier action file for the same
    /// post (an edit). ENOENT on a retry means an earlier attempt already renamed it.
    func publishActionFile(_ temporary: String, as name: String) throws(SystemError) {
        if renameat(outbox, temporary, outbox, name) != 0 && errno != ENOENT {
            throw SystemError("rename", "outbox/\(temporary) to outbox/\(name)")
        }
    }

    /// Takes back the action file of a post whose edit is now allowed; whether there was one.
    func withdrawActionFile(_ name: String) -> Bool {
        unlinkat(outbox, name, 0) == 0
    }

    // MARK: failed/

    /// Writes `NAME.error` (and, for a line of a batch file, the line itself as `NAME`)
    /// under dot-named temporaries.
    func writeFailureTemporaries(_ name: String, error: [UInt8], copy: [UInt8]?) throws(SystemError) {
        if let copy {
            try POSIX.writeFile(dir: failed, name: ".\(name).tmp", bytes: copy, what: "failed/.\(name).tmp")
        }
        try POSIX.writeFile(dir: failed, name: ".\(name).error.tmp", bytes: error, what: "failed/.\(name).error.tmp")
    }

    /// Flushes the error temporary, where syncfs is unavailable.
    func syncFailureTemporary(_ name: String) throws(SystemError) {
        try POSIX.fsyncFile(dir: failed, name: ".\(name).error.tmp", what: "failed/.\(name).error.tmp")
    }

    /// Renames the temporaries of `writeFailureTemporaries` to their final names.
    func publishFailure(_ name: String, hasCopy: Bool) throws(SystemError) {
        try POSIX.rename(failed, ".\(name).error.tmp", failed, name + ".error", what: "failed/\(name).error")
        if hasCopy {
            try POSIX.rename(failed, ".\(name).tmp", failed, name, what: "failed/\(name)")
        }
    }

    // MARK: processing/ → done/ or failed/

    /// processing/NAME → done/, never over an earlier file of the same name (a producer
    /// reusing names): that one is kept and this one becomes NAME~1, NAME~2, ….
    /// Returns the name in done/; nil when an earlier attempt already moved it (ENOENT).
    @discardableResult
    func finish(_ name: String) throws(SystemError) -> String? {
        var target = name
        for attempt in 1...1_000 {
            if NoReplace.rename(processing, name, done, target) == 0 { return target }
            if errno == ENOENT { return nil }
            if errno != EEXIST { break }
            target = "\(name)~\(attempt)"
        }
        throw SystemError("rename into done/", layout.processing + "/" + name)
    }

    // MARK: done/: masked copies of posts with personal data

    private static func maskedName(_ name: String) -> String { ".\(name).masked.tmp" }

    /// Writes the masked copy of a post file to done/ under a dot-name, not flushed (the
    /// batch's syncfs does that, before the original moves into done/).
    func writeMaskedCopy(_ name: String, bytes: [UInt8]) throws(SystemError) {
        try POSIX.writeFile(dir: done, name: Self.maskedName(name), bytes: bytes, what: "done/\(Self.maskedName(name))")
    }

    func syncMaskedCopy(_ name: String) throws(SystemError) {
        try POSIX.fsyncFile(dir: done, name: Self.maskedName(name), what: "done/\(Self.maskedName(name))")
    }

    /// Replaces the original just moved into done/ (as `target`) by its masked copy. With
    /// no target (a retry, or recovery at start-up), the newest done/ file of that name.
    /// A crash between the move and this rename leaves the original in done/ and the copy
    /// beside it; `removeTemporaryFiles` completes it at the next start.
    func publishMaskedCopy(_ name: String, over target: String?) throws(SystemError) {
        guard let target = target ?? newestDoneName(for: name) else {
            unlinkat(done, Self.maskedName(name), 0)
            return
        }
        if renameat(done, Self.maskedName(name), done, target) != 0 && errno != ENOENT {
            throw SystemError("rename", "done/\(Self.maskedName(name)) to done/\(target)")
        }
    }

    /// NAME, or the highest NAME~N present in done/ (moves pick the first free suffix).
    private func newestDoneName(for name: String) -> String? {
        var newest: String?
        var info = stat()
        if fstatat(done, name, &info, AT_SYMLINK_NOFOLLOW) == 0 { newest = name } else { return nil }
        for attempt in 1...1_000 {
            guard fstatat(done, "\(name)~\(attempt)", &info, AT_SYMLINK_NOFOLLOW) == 0 else { break }
            newest = "\(name)~\(attempt)"
        }
        return newest
    }

    /// processing/NAME → failed/NAME, replacing a same-named file so that NAME and
    /// NAME.error stay a pair. ENOENT on a retry means an earlier attempt already moved it.
    func fail(_ name: String) throws(SystemError) {
        if renameat(processing, name, failed, name) == 0 || errno == ENOENT { return }
        throw SystemError("rename into failed/", layout.processing + "/" + name)
    }

    /// Posts waiting in inbox/, or action files not yet taken from outbox/ (dot-named
    /// temporaries excluded), for the `warden_inbox_files` and `warden_outbox_files` gauges.
    func fileCount(_ stage: Stage) -> Int {
        let path = stage == .inbox ? layout.inbox : layout.outbox
        return ((try? POSIX.listDirectory(path)) ?? []).reduce(0) { $0 + (Self.isCandidate($1) ? 1 : 0) }
    }

    // MARK: Durability

    /// One `syncfs` of the spool's filesystem; false where unavailable (then the caller
    /// flushes file by file).
    func syncFilesystem() throws(SystemError) -> Bool {
        try Durability.syncFilesystem(of: outbox, what: layout.root)
    }

    enum Stage { case inbox, outbox, done, failed }

    /// fsync of a stage directory: makes the renames into it durable.
    func syncDirectory(_ stage: Stage) throws(SystemError) {
        switch stage {
        case .inbox: try POSIX.fsync(inbox, what: layout.inbox)
        case .outbox: try POSIX.fsync(outbox, what: layout.outbox)
        case .done: try POSIX.fsync(done, what: layout.done)
        case .failed: try POSIX.fsync(failed, what: layout.failed)
        }
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
        // A masked copy whose original is still in processing/ is written again when the
        // post is judged again; one whose original already moved into done/ replaces it.
        for temporary in try POSIX.listDirectory(layout.done) where temporary.hasPrefix(".") && temporary.hasSuffix(".masked.tmp") {
            let name = String(temporary.dropFirst().dropLast(".masked.tmp".count))
            var info = stat()
            if fstatat(processing, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
                unlinkat(done, temporary, 0)
            } else {
                try publishMaskedCopy(name, over: nil)
            }
        }
    }
}
