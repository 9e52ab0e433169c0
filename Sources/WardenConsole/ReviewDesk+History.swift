import Foundation
import WardenCore

/// The desk's reading side: past decisions and their reviews, and what the reviews say
/// about each rule (production precision, reversals).
extension ReviewDesk {
    // MARK: History

    public enum SearchField: String, Sendable, CaseIterable { case post, author, text }

    /// Past decisions, newest first.
    public func search(_ query: String, in field: SearchField, limit: Int = 50) throws -> [LoggedDecision] {
        let query = query.trimmingCharacters(in: .whitespaces)
        guard !query.isEmpty else { return [] }
        let like = store.dialect.caseInsensitiveLike
        return try store.read { db in
            let sql: String
            let arguments: [any SQLBindable]
            switch field {
            case .post:
                sql = "SELECT line FROM decisions WHERE post_id = ? OR appeal_of = ? ORDER BY decided_at DESC LIMIT ?"
                arguments = [query, query, limit]
            case .author:
                sql = "SELECT line FROM decisions WHERE author = ? ORDER BY decided_at DESC LIMIT ?"
                arguments = [query, limit]
            case .text:
                sql = "SELECT line FROM decisions WHERE text \(like) ? ESCAPE '\\' ORDER BY decided_at DESC LIMIT ?"
                arguments = ["%" + ListColumn.likeEscaped(query) + "%", limit]
            }
            return try db.rows(sql, arguments).compactMap { LoggedDecision.parse(try $0["line"]) }
        }
    }

    /// Reviews of one post, oldest first.
    public func reviews(of postID: String) throws -> [SQLRow] {
        try store.read { db in try db.rows("SELECT * FROM reviews WHERE post_id = ? ORDER BY id", [postID]) }
    }

    // MARK: Rules feedback

    public struct RuleStats: Sendable, Equatable {
        public var hits: Int = 0
        public var reviews: Int = 0
        public var reversals: Int = 0
        public var byVerdict: [String: Int] = [:]
    }

    /// Hits (from the log) and reviews and reversals (from moderators), per rule.
    public func ruleStats() throws -> [String: RuleStats] {
        try store.read { db in
            var stats: [String: RuleStats] = [:]
            for row in try db.rows("SELECT rule, hits FROM rule_hits") {
                stats[try row["rule"], default: RuleStats()].hits = try row["hits"]
            }
            for row in try db.rows("SELECT rules, verdict, COUNT(*) AS n FROM reviews GROUP BY rules, verdict") {
                let verdict: String = try row["verdict"]
                let count: Int = try row["n"]
                for rule in ListColumn.decode(try row["rules"]) {
                    stats[rule, default: RuleStats()].reviews += count
                    stats[rule, default: RuleStats()].byVerdict[verdict, default: 0] += count
                    if Verdict(rawValue: verdict)?.isReversal == true { stats[rule, default: RuleStats()].reversals += count }
                }
            }
            return stats
        }
    }

    /// Every review as a labelled post (the latest review of each post), one JSON line each,
    /// in the shape `warden eval` reads: id, text, labels, author, and the rules that acted.
    public func labelledPosts() throws -> [[UInt8]] { try Self.labelledPosts(store) }

    public static func labelledPosts(_ store: any ReviewStore) throws -> [[UInt8]] {
        try store.read { db in
            try db.rows("SELECT * FROM reviews WHERE id IN (SELECT MAX(id) FROM reviews GROUP BY post_id) ORDER BY id").map { row in
                var w = JSONWriter()
                w.beginObject()
                w.key("id"); w.string(try row["post_id"])
                w.key("text"); w.string(try row["text"])
                w.key("labels"); w.stringArray(ListColumn.decode(try row["labels"]))
                w.key("author"); w.beginObject(); w.key("id"); w.string(try row["author"]); w.endObject()
                w.key("rules"); w.stringArray(ListColumn.decode(try row["rules"]))
                w.key("verdict"); w.string(try row["verdict"])
                w.key("moderator"); w.string(try row["moderator"])
                w.key("reviewed_at"); w.string(RFC3339.format(Date(timeIntervalSince1970: try row["at"])))
                w.endObject()
                return w.bytes
            }
        }
    }

    /// The author's latest decisions, newest first.
    public func decisions(byAuthor author: String, limit: Int = 10) throws -> [LoggedDecision] {
        try search(author, in: .author, limit: limit)
    }
}

/// Production precision of a rule with a Wilson score interval: with few reviews the
/// interval is wide, which is the honest answer.
public struct WilsonInterval: Sendable, Equatable {
    public var estimate: Double
    public var lower: Double
    public var upper: Double

    /// `successes` of `trials` (confirmed reviews of all reviews), at 95 % (z = 1.96).
    public init?(successes: Int, trials: Int, z: Double = 1.96) {
        guard trials > 0, successes >= 0, successes <= trials else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z * ((p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()) / (1 + z2 / n)
        estimate = p
        lower = max(0, centre - half)
        upper = min(1, centre + half)
    }
}
