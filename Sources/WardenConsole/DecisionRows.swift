import Foundation

/// Writes decision lines into the review store: the decision rows, and the queue items of
/// held posts and appeals. The same statements for both stores.
///
/// Lines go in chunks of up to `chunkSize`, one multi-row statement per table a chunk, not
/// one statement per line: on PostgreSQL each statement is a round trip, and a line each
/// indexed about 500 lines/s (20,000 lines in 38.8 s, debug build, local socket), slower
/// than one host's daemon can write them. A chunk never holds one post twice (an edit right
/// behind its post starts a new chunk): a multi-row upsert may not change one row twice.
enum DecisionRows {
    static let chunkSize = 500

    /// Writes `decisions` in order; returns the rule hits of the lines not indexed before.
    static func write(_ decisions: [LoggedDecision], instance: String, into db: any ReviewTransaction) throws -> [String: Int] {
        var hits: [String: Int] = [:]
        for chunk in chunks(decisions) {
            let fresh = try upsertDecisions(chunk, instance: instance, db)
            // A line read before (the same line again: a log read twice, e.g. after the
            // instance was renamed, or an older decision than the one indexed) changes
            // nothing: a resolved item is not reopened and no hit is counted twice.
            let taken = chunk.filter { fresh.contains($0.postID) }
            for decision in taken { for rule in decision.rules { hits[rule, default: 0] += 1 } }
            try queue(taken, instance: instance, db)
        }
        return hits
    }

    static func chunks(_ decisions: [LoggedDecision]) -> [[LoggedDecision]] {
        var chunks: [[LoggedDecision]] = []
        var current: [LoggedDecision] = []
        var posts = Set<String>()
        for decision in decisions {
            if current.count == chunkSize || posts.contains(decision.postID) {
                chunks.append(current)
                current = []
                posts = []
            }
            current.append(decision)
            posts.insert(decision.postID)
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// The post ids of the rows inserted or changed (RETURNING: SQLite and PostgreSQL alike).
    private static func upsertDecisions(_ chunk: [LoggedDecision], instance: String, _ db: any ReviewTransaction) throws -> Set<String> {
        guard !chunk.isEmpty else { return [] }
        var arguments: [any SQLBindable] = []
        for decision in chunk {
            arguments += [
                decision.postID, decision.isAppeal ? "appeal" : "post", decision.appealOf, decision.authorID, decision.authorName,
                decision.action, decision.escalation, ListColumn.encode(decision.guidelines), ListColumn.encode(decision.rules),
                decision.decidedAt.timeIntervalSince1970, decision.text, decision.line, instance, decision.ruleset,
            ]
        }
        let sql = """
            INSERT INTO decisions(post_id, kind, appeal_of, author, author_name, action, escalation,
                guidelines, rules, decided_at, text, line, instance, ruleset) VALUES \(placeholders(rows: chunk.count, columns: 14))
            ON CONFLICT(post_id) DO UPDATE SET kind = excluded.kind, appeal_of = excluded.appeal_of, author = excluded.author,
                author_name = excluded.author_name, action = excluded.action, escalation = excluded.escalation,
                guidelines = excluded.guidelines, rules = excluded.rules, decided_at = excluded.decided_at, text = excluded.text,
                line = excluded.line, instance = excluded.instance, ruleset = excluded.ruleset
            WHERE excluded.line <> decisions.line AND excluded.decided_at >= decisions.decided_at
            RETURNING post_id
            """
        return Set(try db.rows(sql, arguments).map { try $0["post_id"] as String })
    }

    /// Held posts and appeals become (or again become) pending items; a post re-judged and no
    /// longer held leaves the queue.
    private static func queue(_ chunk: [LoggedDecision], instance: String, _ db: any ReviewTransaction) throws {
        var items: [any SQLBindable] = []
        var itemCount = 0
        var others: [LoggedDecision] = []
        for decision in chunk {
            let at = decision.decidedAt.timeIntervalSince1970
            if let appealed = decision.appealOf {
                // Beside the original decision: the appealed post's guidelines and rules.
                let original = try db.row("SELECT guidelines, rules FROM decisions WHERE post_id = ?", [appealed])
                items += [decision.postID, appealed, "appeal", 0, at, decision.authorID,
                          try original?["guidelines"] as String? ?? ",", try original?["rules"] as String? ?? ",", instance, decision.ruleset]
                itemCount += 1
            } else if decision.isHeld {
                items += [decision.postID, decision.postID, "held", 1, at, decision.authorID, ListColumn.encode(decision.guidelines),
                          ListColumn.encode(decision.rules), instance, decision.ruleset]
                itemCount += 1
            } else {
                others.append(decision)
            }
        }
        if itemCount > 0 {
            try db.execute("""
                INSERT INTO items(item_id, post_id, kind, priority, queued_at, author, guidelines, rules, instance, ruleset, status)
                    VALUES \(placeholders(rows: itemCount, columns: 10, then: "'pending'"))
                ON CONFLICT(item_id) DO UPDATE SET
                    status = CASE WHEN items.status = 'resolved' AND excluded.kind = 'appeal' THEN items.status ELSE 'pending' END,
                    version = items.version + 1, guidelines = excluded.guidelines, rules = excluded.rules,
                    instance = excluded.instance, ruleset = excluded.ruleset
                """, items)
        }
        // Most posts let through never had an item: one query finds the few that wait.
        guard !others.isEmpty else { return }
        let waiting = Set(try db.rows("SELECT item_id FROM items WHERE status = 'pending' AND item_id IN (\(placeholders(others.count)))",
                                      others.map(\.postID)).map { try $0["item_id"] as String })
        for decision in others where waiting.contains(decision.postID) {
            try db.execute("""
                UPDATE items SET status = 'resolved', outcome = 'superseded', resolved_by = 'warden', resolved_at = ?,
                    version = version + 1, claimed_by = NULL WHERE item_id = ? AND status = 'pending'
                """, [decision.decidedAt.timeIntervalSince1970, decision.postID])
        }
    }

    /// `?, ?, ?`
    static func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    /// `(?, ?), (?, ?)`, each row ending with `then` when given (a constant column).
    static func placeholders(rows: Int, columns: Int, then constant: String? = nil) -> String {
        let row = "(" + placeholders(columns) + (constant.map { ", " + $0 } ?? "") + ")"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }
}
