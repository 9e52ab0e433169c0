import Foundation
import GRDB
import WardenCore

extension Ledger {
    /// Takes back the strikes (and any escalation) that one post gave its author: a moderator
    /// found the automatic removal wrong. Recorded as a pardon with a post id, so a running
    /// daemon forgets them in memory too (it polls new pardons, see `Committer`), and the
    /// author's other strikes stand. Returns the number of strikes removed.
    @discardableResult
    public func takeBack(postID: String, author: String, at: Date = Date()) throws -> Int {
        try pool.write { db in
            let removed = try Self.applyTakeBack(db, postID: postID)
            try db.execute(sql: "INSERT INTO pardons(author, guideline, at, strikes_removed, post_id) VALUES (?, NULL, ?, ?, ?)",
                           arguments: [author, at.timeIntervalSince1970, removed, postID])
            return removed
        }
    }

    @discardableResult
    static func applyTakeBack(_ db: Database, postID: String) throws -> Int {
        try db.execute(sql: "DELETE FROM strikes WHERE post_id = ?", arguments: [postID])
        let removed = db.changesCount
        try db.execute(sql: "DELETE FROM escalations WHERE post_id = ?", arguments: [postID])
        try db.execute(sql: "DELETE FROM superseded WHERE post_id = ?", arguments: [postID])
        return removed
    }
}

extension Ledger {
    /// The escalation row of a moderator's escalation by hand (escalations are keyed by post).
    static func manualEscalationID(_ pardonID: Int64) -> String { Pardon.manualEscalationID(pardonID) }

    /// Escalates an author by hand (`hold_author` or `block_author`) until a pardon lifts it.
    /// Recorded in the pardons table with its action, so the running daemon applies it in
    /// memory within a second, as it does pardons.
    public func escalate(author: String, to action: Action, at: Date = Date()) throws {
        guard action == .holdAuthor || action == .blockAuthor else {
            throw LedgerUsageError(message: "an author can be escalated to hold_author or block_author, not \(action.rawValue)")
        }
        try pool.write { db in
            try db.execute(sql: "INSERT INTO pardons(author, guideline, at, strikes_removed, escalation) VALUES (?, NULL, ?, 0, ?)",
                           arguments: [author, at.timeIntervalSince1970, action.rawValue])
            let pardon = Pardon(id: db.lastInsertedRowID, author: author, guideline: nil, at: at, escalation: action)
            try Self.applyEscalation(db, pardon: pardon, action: action)
        }
    }

    static func applyEscalation(_ db: Database, pardon: Pardon, action: Action) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO escalations(post_id, author, action, at) VALUES (?, ?, ?, ?)",
                       arguments: [manualEscalationID(pardon.id), pardon.author, action.rawValue, pardon.at.timeIntervalSince1970])
    }
}

/// A moderator call given a value it cannot take, as a sentence.
public struct LedgerUsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
