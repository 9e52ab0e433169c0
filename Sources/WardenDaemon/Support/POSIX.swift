// The daemon is Linux-only (inotify, syncfs, sd_notify); WardenCore stays portable.
import Foundation
import WardenCore
import Glibc

/// A failed system call, carrying the operation and the path it was about, so that the
/// daemon's log line tells ops what went wrong where without a second look.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// Thin wrappers over the few POSIX calls the spool is built on. They exist so that every
/// call site gets EINTR handling and a `SystemError` naming the path, not to hide POSIX:
/// the spool's correctness argument is written in terms of these calls (rename as commit
/// point, fsync of the directory after renames), so they stay visible.
enum POSIX {
    static func openDirectory(_ path: String) throws(SystemError) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SystemError("open directory", path) }
        return fd
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o750) throws(SystemError) {
        var components: [String] = []
        var current = path
        while !current.isEmpty, current != "/", access(current, F_OK) != 0 {
            components.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for directory in components.reversed() where mkdir(directory, mode) != 0 && errno != EEXIST {
            throw SystemError("create directory", directory)
        }
    }

    /// `renameat(2)`: the commit point between spool stages. Atomic within one filesystem.
    static func rename(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String, what: String) throws(SystemError) {
        if renameat(fromDir, from, toDir, to) != 0 {
            throw SystemError("rename", what)
        }
    }

    static func fsync(_ fd: Int32, what: String) throws(SystemError) {
        while Glibc.fsync(fd) != 0 {
            if errno == EINTR { continue }
            // EINVAL: this kind of file cannot be synced (special filesystems); nothing to flush.
            if errno == EINVAL { return }
            throw SystemError("fsync", what)
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, what: String) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", what)
            }
            offset += n
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws(SystemError) {
        let failure: SystemError? = bytes.withUnsafeBytes { buffer in
            do throws(SystemError) {
                try writeAll(fd, buffer, what: what)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Creates (or truncates) `dir/name` and writes `bytes` to it. The data is *not* flushed
    /// here: the caller flushes a whole batch at once (see `Durability`), then renames.
    static func writeFile(dir: Int32, name: String, bytes: [UInt8], what: String) throws(SystemError) {
        let fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o640)
        if fd < 0 { throw SystemError("create", what) }
        defer { close(fd) }
        try writeAll(fd, bytes, what: what)
    }

    /// Opens `dir/name` for reading and fsyncs it: the fallback when `syncfs` is missing.
    static func fsyncFile(dir: Int32, name: String, what: String) throws(SystemError) {
        let fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { throw SystemError("open", what) }
        defer { close(fd) }
        try fsync(fd, what: what)
    }

    /// Names in a directory, without "." and "..". Order is the directory's, not sorted.
    static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        var names: [String] = []
        try forEachEntry(in: path) { names.append($0) }
        return names
    }

    /// Calls `body` with each name in a directory (not "." or ".."), without holding the
    /// whole listing: an inbox millions of posts behind is walked in constant memory.
    static func forEachEntry(in path: String, _ body: (String) -> Void) throws(SystemError) {
        guard let dir = opendir(path) else { throw SystemError("list", path) }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            body(name)
        }
    }

    private typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    private static let setNameFunction: SetName? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "pthread_setname_np") else { return nil }
        return unsafeBitCast(symbol, to: SetName.self)
    }()

    /// Names the calling thread for `top -H` and `perf` (at most 15 bytes are kept).
    /// Foundation's `Thread.name` does not reach the kernel on Linux.
    static func nameCurrentThread(_ name: String) {
        _ = setNameFunction?(pthread_self(), String(name.prefix(15)))
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Flushes the data of many files with one call per batch instead of one `fsync` per file.
///
/// `syncfs(2)` flushes every dirty inode of the filesystem in one journal commit, where a
/// burst of `fsync`s costs one journal commit each. Measured with `make bench-daemon` on
/// the 2-core CI machine's ext4: one fsync per action file gave ~65 posts/s, one syncfs per
/// batch ~6,000 posts/s. The price: syncfs also flushes other processes' dirty data on that
/// filesystem, so give the spool a filesystem of its own where latency matters. Swift's Glibc module does not export `syncfs` (it is behind `_GNU_SOURCE`), so
/// it is looked up with `dlsym`; if it is missing the caller falls back to one `fsync` per file.
enum Durability {
    private typealias SyncFS = @convention(c) (Int32) -> Int32

    private static let syncfsFunction: SyncFS? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: SyncFS.self)
    }()

    static var isAvailable: Bool { syncfsFunction != nil }

    /// Flushes the whole filesystem that holds `fd`. Returns false if `syncfs` is unavailable.
    static func syncFilesystem(of fd: Int32, what: String) throws(SystemError) -> Bool {
        guard let syncfs = syncfsFunction else { return false }
        if syncfs(fd) != 0 { throw SystemError("syncfs", what) }
        return true
    }
}

/// `renameat2(…, RENAME_NOREPLACE)`: a rename that fails with EEXIST instead of silently
/// replacing the target. Looked up with `dlsym` like `syncfs` (not exported by Swift's
/// Glibc module); where missing, a plain `renameat` after a check (racy only against
/// another process renaming into processing/, which nothing but warden does).
enum NoReplace {
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameat2Function: RenameAt2? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
    private static let renameNoReplace: UInt32 = 1

    /// Returns 0 on success, else -1 with `errno` set (EEXIST if the target exists).
    static func rename(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String) -> Int32 {
        if let renameat2 = renameat2Function {
            let result = renameat2(fromDir, from, toDir, to, renameNoReplace)
            if result == 0 || (errno != EINVAL && errno != ENOSYS) { return result }
        }
        var info = stat()
        if fstatat(toDir, to, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            errno = EEXIST
            return -1
        }
        return renameat(fromDir, from, toDir, to)
    }
}
