import Foundation

/// Copies one host's console state (`state/review.sqlite`) into the shared PostgreSQL store,
/// when a single host joins a group (`warden review-import`). Without it, the first console
/// on PostgreSQL would index the host's decisions.jsonl again from the start: users, reviews
/// and the audit log would be missing, and every held post moderators had already settled
/// would wait in the queue again.
///
/// The tables have the same columns in both stores, so each is copied column for column;
/// rows whose key is already there are kept as they are (another host's import, or a user
/// added on another host), rule hits are added up. Rows from before instances were named get
/// this host's instance name, and the host's log cursor becomes its instance's. Refused once
/// this instance's console has indexed into the shared store (its cursor is there): the two
/// histories would then overlap.
public enum ReviewImport {
    /// Tables in copy order, with the columns copied (ids of reviews and audit rows are
    /// given anew, in the same order) and what a conflicting key does.
    static let tables: [(name: String, columns: [String], conflict: String)] = [
        ("users", ["name", "role", "hash", "created_at"], "ON CONFLICT(name) DO NOTHING"),
        ("decisions", ["post_id", "kind", "appeal_of", "author", "author_name", "action", "escalation", "guidelines", "rules",
                       "decided_at", "text", "line", "instance", "ruleset"], "ON CONFLICT(post_id) DO NOTHING"),
        ("items", ["item_id", "post_id", "kind", "status", "priority", "queued_at", "version", "claimed_by", "claimed_until",
                   "resolved_by", "resolved_at", "outcome", "author", "guidelines", "rules", "instance", "ruleset"],
         "ON CONFLICT(item_id) DO NOTHING"),
        ("reviews", ["post_id", "item_id", "moderator", "at", "verdict", "action", "labels", "rules", "author", "text", "reason"], ""),
        ("audit", ["at", "moderator", "item", "action", "reason", "before", "after"], ""),
        ("rule_hits", ["rule", "hits"], "ON CONFLICT(rule) DO UPDATE SET hits = rule_hits.hits + excluded.hits"),
    ]

    /// Copies everything in one transaction of `target`; returns the rows read per table.
    public static func copy(from source: SQLiteReviewStore, to target: any ReviewStore, instance: String) throws -> [(table: String, rows: Int)] {
        let cursor = try source.read { db in try db.row("SELECT inode, byte_offset FROM log_cursors ORDER BY instance DESC LIMIT 1") }
        return try target.write { db in
            if try db.row("SELECT 1 AS present FROM log_cursors WHERE instance = ?", [instance]) != nil {
                throw ReviewStoreError("the shared store already has a log position for instance \(instance): its console has indexed there, so this host's review.sqlite can no longer be imported without doubling its history. Import before the first start of the console on PostgreSQL (docs/CONSOLE.md)")
            }
            var counts: [(table: String, rows: Int)] = []
            for table in tables {
                let order = table.name == "reviews" || table.name == "audit" ? " ORDER BY id" : ""
                let rows = try source.read { source in try source.rows("SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name)\(order)") }
                for start in stride(from: 0, to: rows.count, by: 200) {
                    let chunk = rows[start..<min(start + 200, rows.count)]
                    var arguments: [any SQLBindable] = []
                    for row in chunk {
                        for column in table.columns {
                            let value: SQLValue = try row[column]
                            arguments.append(column == "instance" && value == .null ? .text(instance) : value)
                        }
                    }
                    try db.execute("""
                        INSERT INTO \(table.name)(\(table.columns.joined(separator: ", ")))
                        VALUES \(DecisionRows.placeholders(rows: chunk.count, columns: table.columns.count)) \(table.conflict)
                        """, arguments)
                }
                counts.append((table.name, rows.count))
            }
            // Always a cursor (at the log's start if the host had read nothing): it is also what
            // refuses a second import.
            try db.execute("INSERT INTO log_cursors(instance, inode, byte_offset) VALUES (?, ?, ?)",
                           [instance, try cursor?["inode"] as Int64? ?? 0, try cursor?["byte_offset"] as Int64? ?? 0])
            var after: [String: Any] = [:]
            for (table, rows) in counts { after[table] = rows }
            try AuditLog.append(db, at: Date(), moderator: "warden review-import", item: "instance:" + instance, action: "import",
                                reason: "this host's review.sqlite copied into the shared store", before: [:], after: after)
            return counts
        }
    }
}
