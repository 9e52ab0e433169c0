import Foundation
import WardenCore
import Glibc

/// decisions.jsonl: every decision, allow included, one line each, append-only, rotated
/// by size to decisions.jsonl.1, .2, … (the oldest beyond `keep` is deleted).
///
/// A batch is appended with one `write`; if the write fails half-way (disk full), the file
/// is truncated back to where the batch began so a retry never leaves a torn line.
final class DecisionLog {
    let path: String
    let maxBytes: Int
    let keep: Int
    private var fd: Int32 = -1
    private var size: Int = 0

    init(path: String, maxBytes: Int, keep: Int) throws(SystemError) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = max(1, keep)
        try open()
    }

    deinit { if fd >= 0 { close(fd) } }

    private func open() throws(SystemError) {
        fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        if fd < 0 { throw SystemError("open", path) }
        var info = stat()
        fstat(fd, &info)
        size = Int(info.st_size)
        try dropTornLine()
    }

    /// A kill in the middle of an append can leave a last line without its newline; it is
    /// cut off at start-up (that batch's posts are still in processing/ and are logged again).
    private func dropTornLine() throws(SystemError) {
        guard size > 0 else { return }
        let readFD = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard readFD >= 0 else { return }
        defer { close(readFD) }
        var end = size
        var chunk = [UInt8](repeating: 0, count: 4096)
        while end > 0 {
            let start = max(0, end - chunk.count)
            let count = chunk.withUnsafeMutableBytes { pread(readFD, $0.baseAddress, end - start, off_t(start)) }
            guard count == end - start else { return }
            if let newline = chunk[0..<count].lastIndex(of: UInt8(ascii: "\n")) {
                let keep = start + newline + 1
                if keep < size {
                    if ftruncate(fd, off_t(keep)) != 0 { throw SystemError("truncate a torn last line of", path) }
                    size = keep
                }
                return
            }
            end = start
        }
        if ftruncate(fd, 0) != 0 { throw SystemError("truncate a torn last line of", path) }
        size = 0
    }

    /// Appends the lines (each without its newline). Not flushed: the batch's `syncfs` does.
    func append(_ lines: [[UInt8]]) throws(SystemError) {
        guard !lines.isEmpty else { return }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for line in lines {
            buffer.append(contentsOf: line)
            buffer.append(UInt8(ascii: "\n"))
        }
        do {
            try POSIX.writeAll(fd, buffer, what: path)
        } catch {
            _ = ftruncate(fd, off_t(size))
            throw error
        }
        size += buffer.count
        if size >= maxBytes { try rotate() }
    }

    func sync() throws(SystemError) { try POSIX.fsync(fd, what: path) }

    /// Shifts decisions.jsonl.N to .N+1 and starts a new file. Each step is a rename, so a
    /// crash in the middle loses no line (at worst a number in the sequence is skipped).
    func rotate() throws(SystemError) {
        try POSIX.fsync(fd, what: path)
        close(fd)
        fd = -1
        unlink("\(path).\(keep)")
        for index in stride(from: keep - 1, through: 1, by: -1) {
            Glibc.rename("\(path).\(index)", "\(path).\(index + 1)")
        }
        Glibc.rename(path, "\(path).1")
        try open()
    }
}
