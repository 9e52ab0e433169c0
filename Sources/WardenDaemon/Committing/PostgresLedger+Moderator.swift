import Foundation
import PostgresNIO
import WardenCore

/// What moderators' commands do to a ledger (`warden strikes`, `pardon`, `confirm`, the
/// console's take-back), for either store. The CLI still opens only the SQLite ledger: see
/// docs/STORAGE.md, "Not done yet".
protocol ModeratorLedger: Sendable {
    func standing(of author: String) throws -> Ledger.Standing
    @discardableResult
    func pardon(author: String, guideline: String?, at: Date, moderator: String?, reason: String?) throws -> Int
    @discardableResult
    func takeBack(postID: String, author: String, at: Date) throws -> Int
    func escalate(author: String, to action: Action, at: Date) throws
    func confirmRule(_ rule: String, at date: Date) throws
}

extension Ledger: ModeratorLedger {}

extension PostgresLedger: ModeratorLedger {
    func standing(of author: String) throws -> Ledger.Standing {
        try sessions.withConnection { connection in
            let logger = sessions.queryLogger
            let record = try Self.author(author, postsSince: .distantFuture, maxPosts: 0, on: connection, logger: logger)
            let pardons = try connection.run("""
                SELECT id, author, guideline, at, moderator, reason, post_id, escalation FROM pardons WHERE author = \(author) ORDER BY id
                """, logger: logger).map { row in
                let (id, author, guideline, at, moderator, reason, postID, escalation) =
                    try row.decode((Int64, String, String?, Double, String?, String?, String?, String?).self)
                return Pardon(id: id, author: author, guideline: guideline, at: Date(timeIntervalSince1970: at), moderator: moderator,
                              reason: reason, postID: postID, escalation: escalation.flatMap(Action.init(rawValue:)))
            }
            return Ledger.Standing(author: author, strikes: record?.standing.strikes ?? [], escalations: record?.standing.escalations ?? [],
                                   pardons: pardons)
        }
    }

    /// A pardon takes the author's lock too, so it falls between two of the author's posts,
    /// never inside one's read-decide-write on another host.
    @discardableResult
    func pardon(author: String, guideline: String?, at: Date = Date(), moderator: String? = nil, reason: String? = nil) throws -> Int {
        try sessions.withTransaction { connection in
            let logger = sessions.queryLogger
            try connection.run("SELECT pg_advisory_xact_lock(\(Self.lockKey(of: author)))", logger: logger)
            let removed = try Self.applyPardon(author: author, guideline: guideline, on: connection, logger: logger)
            try connection.run("""
                INSERT INTO pardons(author, guideline, at, strikes_removed, moderator, reason)
                VALUES (\(author), \(guideline), \(at.timeIntervalSince1970), \(Int32(removed)), \(moderator), \(reason))
                """, logger: logger)
            return removed
        }
    }

    @discardableResult
    func takeBack(postID: String, author: String, at: Date = Date()) throws -> Int {
        try sessions.withTransaction { connection in
            let logger = sessions.queryLogger
            try connection.run("SELECT pg_advisory_xact_lock(\(Self.lockKey(of: author)))", logger: logger)
            let removed = try Self.applyTakeBack(postID: postID, on: connection, logger: logger)
            try connection.run("""
                INSERT INTO pardons(author, guideline, at, strikes_removed, post_id) VALUES (\(author), NULL, \(at.timeIntervalSince1970), \(Int32(removed)), \(postID))
                """, logger: logger)
            return removed
        }
    }

    func escalate(author: String, to action: Action, at: Date = Date()) throws {
        guard action == .holdAuthor || action == .blockAuthor else {
            throw LedgerUsageError(message: "an author can be escalated to hold_author or block_author, not \(action.rawValue)")
        }
        try sessions.withTransaction { connection in
            let logger = sessions.queryLogger
            try connection.run("SELECT pg_advisory_xact_lock(\(Self.lockKey(of: author)))", logger: logger)
            let id = try connection.run("""
                INSERT INTO pardons(author, guideline, at, strikes_removed, escalation) VALUES (\(author), NULL, \(at.timeIntervalSince1970), 0, \(action.rawValue))
                RETURNING id
                """, logger: logger).first?.decode(Int64.self) ?? 0
            try Self.applyEscalation(pardon: Pardon(id: id, author: author, guideline: nil, at: at, escalation: action), action: action,
                                     on: connection, logger: logger)
        }
    }
}
