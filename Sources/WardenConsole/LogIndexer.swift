import Foundation
import Glibc
import WardenDaemon

/// Follows this host's decisions.jsonl (and its rotations `.1`, `.2`, …) into the review
/// store: every decision is indexed for search and author cards, held posts and appeals
/// become queue items, each tagged with `instance` (this host's name) and the ruleset digest
/// the line carries. On a shared store every instance's console indexes its own host's log,
/// so the store holds every host's decisions; `instances` keeps each one's last ruleset and
/// when its indexer last ran.
///
/// Post ids are the producers' ids and unique across the organisation (the shared ledger
/// keys a post's rows by it, too): items are keyed by post id, never by instance, so the
/// same post arriving at two hosts, a producer's error, is one item judged twice, as an edit
/// is, and shows the instance that judged it last.
///
/// The daemon only appends, and rotates by renaming, so the position read so far is the
/// pair (inode, byte offset): after a rotation the file with that inode is found again under
/// its new name and finished first, then the newer files are read from their start. Only
/// whole lines are taken (the daemon may be in the middle of an append). The position is
/// saved in the same transaction as the rows, one per instance, so a console restart
/// neither skips nor repeats a line.
public struct LogIndexer: Sendable {
    public let logPath: String
    /// This host's instance name (`instance:` in warden.yaml, else the host name).
    public let instance: String
    let store: any ReviewStore
    /// Lines per transaction when catching up on a large log.
    var batchLines = 5_000
    /// When this indexer last wrote its instance's `last_seen`.
    private let lastSeenWritten = Locked(Date.distantPast)

    public init(logPath: String, instance: String, store: any ReviewStore) {
        self.logPath = logPath
        self.instance = instance
        self.store = store
    }

    /// Reads everything new; returns the number of lines indexed.
    @discardableResult
    public func catchUp() throws -> Int {
        // The instance's own cursor; else the one a single-host database had before instances
        // were named (instance '', SQLite migration v2), which the first `store` replaces.
        let cursor = try store.read { db in
            try db.row("SELECT inode, byte_offset FROM log_cursors WHERE instance = ? OR instance = '' ORDER BY instance DESC LIMIT 1", [instance])
                .map { (inode: UInt64(bitPattern: try $0["inode"] as Int64), offset: try $0["byte_offset"] as Int64) }
        }
        // Oldest first: decisions.jsonl.N … .1, then decisions.jsonl.
        var files: [(path: String, inode: UInt64)] = []
        var index = 1
        var rotated: [(String, UInt64)] = []
        while true {
            let path = "\(logPath).\(index)"
            guard let inode = Self.inode(path) else { break }
            rotated.append((path, inode))
            index += 1
        }
        files = rotated.reversed().map { (path: $0.0, inode: $0.1) }
        if let inode = Self.inode(logPath) { files.append((logPath, inode)) }
        guard !files.isEmpty else {
            try seen()
            return 0
        }
        var start = 0
        var offset: Int64 = 0
        if let cursor, let position = files.firstIndex(where: { $0.inode == cursor.inode }) {
            start = position
            offset = cursor.offset
        }
        var total = 0
        for (position, file) in files.enumerated() where position >= start {
            total += try read(file: file.path, inode: file.inode, from: position == start ? offset : 0)
        }
        if total == 0 { try seen() }
        return total
    }

    /// Marks this instance as seen now when nothing new was read (a quiet host is still up);
    /// at most once every `heartbeat` seconds, so an idle console does not write on every poll.
    private func seen(now: Date = Date()) throws {
        guard now.timeIntervalSince(lastSeenWritten.withLock { $0 }) >= Self.heartbeat else { return }
        try store.write { db in
            try db.execute("""
                INSERT INTO instances(name, last_seen) VALUES (?, ?)
                ON CONFLICT(name) DO UPDATE SET last_seen = excluded.last_seen
                """, [instance, now.timeIntervalSince1970])
        }
        lastSeenWritten.withLock { $0 = now }
    }

    /// Seconds between two "still here" writes of an idle instance.
    static let heartbeat: TimeInterval = 10

    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    private func read(file path: String, inode: UInt64, from offset: Int64) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        var position = offset
        try handle.seek(toOffset: UInt64(offset))
        var pending: [UInt8] = []
        var lines: [String] = []
        var total = 0
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            pending.append(contentsOf: chunk)
            var lineStart = 0
            var consumed = 0
            for (i, byte) in pending.enumerated() where byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: pending[lineStart..<i], as: UTF8.self))
                lineStart = i + 1
                consumed = lineStart
                if lines.count >= batchLines {
                    position += Int64(consumed)
                    pending.removeFirst(consumed)
                    try store(lines, inode: inode, offset: position)
                    total += lines.count
                    lines.removeAll(keepingCapacity: true)
                    return total + (try read(file: path, inode: inode, from: position))
                }
            }
            position += Int64(consumed)
            pending.removeFirst(consumed)
        }
        if !lines.isEmpty || position != offset {
            try store(lines, inode: inode, offset: position)
            total += lines.count
        }
        return total
    }

    private func store(_ lines: [String], inode: UInt64, offset: Int64) throws {
        let instance = instance
        let decisions = lines.compactMap(LoggedDecision.parse)
        try store.write { db in
            let hits = try DecisionRows.write(decisions, instance: instance, into: db)
            // In rule order: two hosts' batches then lock the shared counters in one order, never
            // each waiting for the other (PostgreSQL would abort one as a deadlock).
            for (rule, count) in hits.sorted(by: { $0.key < $1.key }) { try db.execute(Self.countHits, [rule, count, count]) }
            try db.execute("""
                INSERT INTO log_cursors(instance, inode, byte_offset) VALUES (?, ?, ?)
                ON CONFLICT(instance) DO UPDATE SET inode = excluded.inode, byte_offset = excluded.byte_offset
                """, [instance, Int64(bitPattern: inode), offset])
            try db.execute("DELETE FROM log_cursors WHERE instance = ''")
            let now = Date().timeIntervalSince1970
            lastSeenWritten.withLock { $0 = Date(timeIntervalSince1970: now) }
            if let latest = decisions.last {
                try db.execute("""
                    INSERT INTO instances(name, ruleset, last_seen, last_decided_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET ruleset = COALESCE(excluded.ruleset, instances.ruleset),
                        last_seen = excluded.last_seen, last_decided_at = excluded.last_decided_at
                    """, [instance, latest.ruleset, now, latest.decidedAt.timeIntervalSince1970])
            } else {
                try db.execute("""
                    INSERT INTO instances(name, last_seen) VALUES (?, ?)
                    ON CONFLICT(name) DO UPDATE SET last_seen = excluded.last_seen
                    """, [instance, now])
            }
        }
    }

    static let countHits = "INSERT INTO rule_hits(rule, hits) VALUES (?, ?) ON CONFLICT(rule) DO UPDATE SET hits = rule_hits.hits + ?"
}
