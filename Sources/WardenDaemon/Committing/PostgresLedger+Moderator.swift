import Foundation
import Logging
import PostgresNIO
import WardenCore

/// What moderators' commands do to a ledger (`warden strikes`, `pardon`, `confirm`, the
/// console's author card, pardon, escalation, take-back and rule confirmation), for either
/// store. Open one with `ModeratorLedgers.open`, from the same `ledger:` setting the daemon
/// reads, so a moderator on any host writes where every instance's daemon reads.
public protocol ModeratorLedger: AnyObject, Sendable {
    /// Where it is, for messages ("/var/lib/warden/state/ledger.sqlite", "postgres://warden@db/warden").
    var location: String { get }
    func standing(of author: String) throws -> Ledger.Standing
    func escalatedAuthors() throws -> [(author: String, escalation: EscalationRecord)]
    /// Guidelines that have strikes in the ledger (a pardon may name one the rules no longer have).
    func struckGuidelines() throws -> Set<String>
    @discardableResult
    func pardon(author: String, guideline: String?, at: Date, moderator: String?, reason: String?) throws -> Int
    @discardableResult
    func takeBack(postID: String, author: String, at: Date) throws -> Int
    func escalate(author: String, to action: Action, at: Date) throws
    func confirmRule(_ rule: String, at date: Date) throws
    func demotedRules() throws -> [String]
    /// Ends the connections (PostgreSQL); nothing for SQLite.
    func close()
}

extension Ledger: ModeratorLedger {
    public func close() {}
}

/// Opens the ledger a daemon configured with `location` uses.
public enum ModeratorLedgers {
    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    /// SQLite: `state/ledger.sqlite` under `stateRoot`; a read needs the file, a write needs
    /// at least the state directory (a moderator command must not create an empty ledger
    /// somewhere no daemon looks). PostgreSQL: connects and checks
    /// the schema (migrating an older one, refusing a newer one, as the daemon does).
    public static func open(_ location: LedgerLocation, stateRoot: String, readOnly: Bool,
                            logger: Logger = Logger(label: "warden.ledger")) throws(OpenError) -> any ModeratorLedger {
        switch location {
        case .sqlite:
            let layout = SpoolLayout(root: stateRoot)
            let path = layout.ledger
            // A write (pardon, confirm) may create the ledger inside an existing state
            // directory, as the daemon would; a read never creates one, and neither does a
            // write aimed at a directory that is not a daemon's state root.
            let creatable = !readOnly && FileManager.default.fileExists(atPath: layout.state)
            guard creatable || FileManager.default.fileExists(atPath: path) else {
                throw OpenError(description: "no strike ledger at \(path); pass --state with the daemon's state root (e.g. /var/lib/warden), or --config with its warden.yaml")
            }
            do {
                return try Ledger(path: path, readOnly: readOnly)
            } catch {
                throw OpenError(description: "cannot open the strike ledger \(path)\(readOnly ? " for reading" : ""): \(error)")
            }
        case .postgres(let settings):
            do {
                return try PostgresLedger(settings: settings, logger: logger)
            } catch {
                throw OpenError(description: "cannot open the shared ledger \(settings.description): \(error)")
            }
        }
    }
}

extension PostgresLedger: ModeratorLedger {
    public func close() { sessions.close() }

    public func escalatedAuthors() throws -> [(author: String, escalation: EscalationRecord)] {
        try sessions.withConnection { connection in
            var strongest: [String: EscalationRecord] = [:]
            for row in try connection.run("SELECT author, post_id, action, at FROM escalations ORDER BY at", logger: sessions.queryLogger) {
                let (author, postID, text, at) = try row.decode((String, String, String, Double).self)
                guard let action = Action(rawValue: text) else { continue }
                let record = EscalationRecord(postID: postID, action: action, at: Date(timeIntervalSince1970: at))
                if strongest[author].map({ $0.action < action }) ?? true { strongest[author] = record }
            }
            return strongest.sorted { $0.key < $1.key }.map { (author: $0.key, escalation: $0.value) }
        }
    }

    public func struckGuidelines() throws -> Set<String> {
        try sessions.withConnection { connection in
            Set(try connection.run("SELECT DISTINCT guideline FROM strikes", logger: sessions.queryLogger).map { try $0.decode(String.self) })
        }
    }

    public func demotedRules() throws -> [String] {
        try shadowGuardState().demoted.sorted()
    }

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
