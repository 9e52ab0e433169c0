import Foundation
import GRDB

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
