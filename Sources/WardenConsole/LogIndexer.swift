import Foundation
import GRDB
import Glibc

/// Follows the daemon's decisions.jsonl (and its rotations `.1`, `.2`, …) into the review
/// database: every decision is indexed for search and author cards, held posts and appeals
/// become queue items.
///
/// The daemon only appends, and rotates by renaming, so the position read so far is the
/// pair (inode, byte offset): after a rotation the file with that inode is found again under
/// its new name and finished first, then the newer files are read from their start. Only
/// whole lines are taken (the daemon may be in the middle of an append). The position is
/// saved in the same transaction as the rows, so a console restart neither skips nor
/// repeats a line.
public struct LogIndexer: Sendable {
    public let logPath: String
    let database: ReviewDatabase
    /// Lines per transaction when catching up on a large log.
    var batchLines = 5_000

    public init(logPath: String, database: ReviewDatabase) {
        self.logPath = logPath
        self.database = database
    }

    /// Reads everything new; returns the number of lines indexed.
    @discardableResult
    public func catchUp() throws -> Int {
        let cursor = try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT inode, offset FROM log_cursor WHERE id = 1").map { (inode: UInt64(bitPattern: $0["inode"] as Int64), offset: $0["offset"] as Int64) }
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
        guard !files.isEmpty else { return 0 }
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
        return total
    }

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
        try database.pool.write { db in
            let upsertDecision = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO decisions(post_id, kind, appeal_of, author, author_name, action, escalation,
                    guidelines, rules, decided_at, text, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertItem = try db.cachedStatement(sql: """
                INSERT INTO items(item_id, post_id, kind, status, priority, queued_at, author, guidelines, rules)
                    VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)
                ON CONFLICT(item_id) DO UPDATE SET
                    status = CASE WHEN status = 'resolved' AND excluded.kind = 'appeal' THEN status ELSE 'pending' END,
                    version = version + 1, guidelines = excluded.guidelines, rules = excluded.rules
                """)
            let supersede = try db.cachedStatement(sql: """
                UPDATE items SET status = 'resolved', outcome = 'superseded', resolved_by = 'warden', resolved_at = ?,
                    version = version + 1, claimed_by = NULL WHERE item_id = ? AND status = 'pending'
                """)
            let countHit = try db.cachedStatement(sql: "INSERT INTO rule_hits(rule, hits) VALUES (?, 1) ON CONFLICT(rule) DO UPDATE SET hits = hits + 1")
            for line in lines {
                guard let decision = LoggedDecision.parse(line) else { continue }
                let guidelines = ListColumn.encode(decision.guidelines)
                let rules = ListColumn.encode(decision.rules)
                let at = decision.decidedAt.timeIntervalSince1970
                try upsertDecision.execute(arguments: [
                    decision.postID, decision.isAppeal ? "appeal" : "post", decision.appealOf, decision.authorID,
                    decision.authorName, decision.action, decision.escalation, guidelines, rules, at, decision.text, line,
                ])
                for rule in decision.rules { try countHit.execute(arguments: [rule]) }
                if let appealed = decision.appealOf {
                    // Beside the original decision: the appealed post's guidelines and rules.
                    let original = try Row.fetchOne(db, sql: "SELECT guidelines, rules FROM decisions WHERE post_id = ?", arguments: [appealed])
                    try insertItem.execute(arguments: [
                        decision.postID, appealed, "appeal", 0, at, decision.authorID,
                        original?["guidelines"] as String? ?? ",", original?["rules"] as String? ?? ",",
                    ])
                } else if decision.isHeld {
                    try insertItem.execute(arguments: [decision.postID, decision.postID, "held", 1, at, decision.authorID, guidelines, rules])
                } else {
                    // An edit that is no longer held leaves the queue.
                    try supersede.execute(arguments: [at, decision.postID])
                }
            }
            try db.execute(sql: "INSERT OR REPLACE INTO log_cursor(id, inode, offset) VALUES (1, ?, ?)",
                           arguments: [Int64(bitPattern: inode), offset])
        }
    }
}
