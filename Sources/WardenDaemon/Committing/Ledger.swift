import Foundation
import WardenCore
import GRDB

/// One write to the ledger, applied in the order the workers produced them.
enum LedgerOperation: Sendable {
    case judged(LedgerChange)
    case pardon(Pardon)
}

/// What judging one post changes in the ledger. Applied in one transaction per batch.
struct LedgerChange: Sendable {
    var postID: String
    var author: String
    var at: Date
    var textDigest: UInt64
    var strikeGuidelines: [String]
    var escalation: Action?
    /// The post id had rows of an earlier version (an edit): they are kept aside until the
    /// edit is finished, so that crash recovery can put them back.
    var replaces = false
}

/// The strike ledger and author history, in SQLite through GRDB under `state/ledger.sqlite`.
///
/// While the daemon runs, the truth about authors lives in memory (`AuthorBook`), and the
/// ledger is its durable copy: an author is read from it when they first post after a start
/// or after leaving memory (`author(_:postsSince:maxPosts:)`), and it is written once per
/// batch. That keeps SQLite off the per-post path for authors in memory (a query per post
/// would cost more than judging).
/// WAL mode lets `warden strikes` read while the daemon writes.
public final class Ledger: Sendable {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) the ledger at `path`.
    /// - Parameter durable: `synchronous = FULL`, so a committed batch survives power loss
    ///   by itself; the daemon passes false when its per-batch `syncfs` flushes the WAL instead.
    /// - Parameter readOnly: for the moderator commands that only read (`warden strikes`):
    ///   they work with read access to the state alone, and never migrate.
    public init(path: String, durable: Bool = true, readOnly: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(10)
        configuration.label = "warden.ledger"
        configuration.prepareDatabase { db in
            if readOnly { return }
            try db.execute(sql: durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            // Checkpoint every 8,192 pages (32 MB of WAL) rather than SQLite's 1,000: the
            // daemon rewrites the same few thousand pages batch after batch (random post ids
            // and authors), and each checkpoint copies every page touched since the last one.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8192")
            // 1 KiB pages for a new ledger (an existing one keeps its page size): each post
            // touches two or three random leaf pages (post id, author, time), and every
            // touched page is written whole to the WAL; 4 KiB pages made the WAL ~2 KB a post.
            try db.execute(sql: "PRAGMA page_size = 1024")
        }
        // Without write access a WAL database is readable only while its -wal and -shm files
        // exist (the daemon is running); when the daemon is stopped they are gone, the file is
        // fully checkpointed, and SQLite reads it as immutable (Debian's SQLite takes URIs).
        let readOnlyStopped = readOnly && !FileManager.default.fileExists(atPath: path + "-wal")
        let openPath = readOnlyStopped ? "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?immutable=1" : path
        pool = try DatabasePool(path: openPath, configuration: configuration)
        if !readOnly { try Self.migrator.migrate(pool) }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE strikes (
                    post_id TEXT NOT NULL, guideline TEXT NOT NULL, author TEXT NOT NULL, at REAL NOT NULL,
                    PRIMARY KEY (post_id, guideline)) WITHOUT ROWID;
                CREATE INDEX strikes_by_author ON strikes(author, at);
                CREATE TABLE posts (
                    post_id TEXT NOT NULL PRIMARY KEY, author TEXT NOT NULL, at REAL NOT NULL, digest INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX posts_by_author ON posts(author, at);
                CREATE INDEX posts_by_time ON posts(at);
                CREATE TABLE escalations (
                    post_id TEXT NOT NULL PRIMARY KEY, author TEXT NOT NULL, action TEXT NOT NULL, at REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX escalations_by_author ON escalations(author);
                CREATE TABLE pardons (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, author TEXT NOT NULL, guideline TEXT, at REAL NOT NULL,
                    strikes_removed INTEGER NOT NULL);
                """)
        }
        migrator.registerMigration("v2-superseded") { db in
            // Rows an edit replaced, kept so that recovery can restore them if the edit's
            // file is still in processing/ after a crash (see `undo`); pruned after an hour.
            try db.execute(sql: """
                CREATE TABLE superseded (
                    post_id TEXT NOT NULL, by_at REAL NOT NULL, recorded REAL NOT NULL, kind TEXT NOT NULL,
                    author TEXT NOT NULL, at REAL NOT NULL, guideline TEXT, action TEXT, digest INTEGER);
                CREATE INDEX superseded_by_post ON superseded(post_id, by_at);
                CREATE INDEX superseded_by_time ON superseded(recorded);
                """)
        }
        migrator.registerMigration("v3-pardon-moderator") { db in
            try db.execute(sql: "ALTER TABLE pardons ADD COLUMN moderator TEXT; ALTER TABLE pardons ADD COLUMN reason TEXT")
        }
        migrator.registerMigration("v3-pardon-post") { db in try db.execute(sql: "ALTER TABLE pardons ADD COLUMN post_id TEXT") }
        migrator.registerMigration("v4-manual-escalation") { db in try db.execute(sql: "ALTER TABLE pardons ADD COLUMN escalation TEXT") }
        migrator.registerMigration("v3-shadow-guard") { db in
            // The shadow guard's state (Rules/ShadowGuard.swift), formerly JSON files read
            // with `try?`: a corrupt file silently meant no rule was ever demoted.
            try db.execute(sql: """
                CREATE TABLE rules_seen (rule TEXT NOT NULL PRIMARY KEY, fingerprint TEXT NOT NULL, changed_at REAL NOT NULL) WITHOUT ROWID;
                CREATE TABLE rule_confirmations (rule TEXT NOT NULL PRIMARY KEY, at REAL NOT NULL) WITHOUT ROWID;
                CREATE TABLE rule_demotions (rule TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    // MARK: Daemon side

    /// One author's past as the judge needs it, for an author not in memory: the newest
    /// `maxPosts` posts newer than `postsSince`, every strike (the ledger keeps only those
    /// within the strike window), and standing escalations. Nil if the ledger has nothing.
    /// Three indexed lookups (`*_by_author`), a few tens of microseconds.
    func author(_ author: String, postsSince: Date, maxPosts: Int) throws -> AuthorRecord? {
        try pool.read { db in
            var record = AuthorRecord()
            let posts = try db.cachedStatement(sql: "SELECT post_id, at, digest FROM posts WHERE author = ? AND at >= ? ORDER BY at DESC LIMIT ?")
            let rows = try Row.fetchCursor(posts, arguments: [author, postsSince.timeIntervalSince1970, maxPosts])
            while let row = try rows.next() {
                let digest: Int64 = row["digest"]
                record.posts.append(PostTrace(postID: row["post_id"], at: Date(timeIntervalSince1970: row["at"]),
                                              textDigest: UInt64(bitPattern: digest)))
            }
            record.posts.reverse()
            let strikes = try db.cachedStatement(sql: "SELECT post_id, guideline, at FROM strikes WHERE author = ? ORDER BY at")
            let strikeRows = try Row.fetchCursor(strikes, arguments: [author])
            while let row = try strikeRows.next() {
                record.standing.strikes.append(Strike(postID: row["post_id"], guideline: row["guideline"], at: Date(timeIntervalSince1970: row["at"])))
            }
            let escalations = try db.cachedStatement(sql: "SELECT post_id, action, at FROM escalations WHERE author = ? ORDER BY at")
            let escalationRows = try Row.fetchCursor(escalations, arguments: [author])
            while let row = try escalationRows.next() {
                guard let action = Action(rawValue: row["action"]) else { continue }
                record.standing.escalations.append(EscalationRecord(postID: row["post_id"], action: action, at: Date(timeIntervalSince1970: row["at"])))
            }
            return record.isEmpty ? nil : record
        }
    }

    /// Undoes what the given posts wrote, before they are judged again at start-up.
    ///
    /// Posts left in processing/ after a crash may have had their batch committed to the
    /// ledger before the crash (the rename into done/ is the last step). Judging them again
    /// on top of their own strikes would count them twice, and would let a post see strikes
    /// of posts that came after it; undoing them first makes recovery give exactly the
    /// decisions of an uninterrupted run.
    ///
    /// Only rows of the same version are undone, recognised by the post's event time: when
    /// the post left in processing/ is an edit whose batch was never committed, the rows
    /// belong to the earlier version, which is finished in done/ and must keep its strikes.
    /// When the edit's batch was committed, the earlier version's rows it replaced are put
    /// back from `superseded`, so that the author's other posts judged again see them as an
    /// uninterrupted run did. `posts` must be in claim order; they are undone latest first.
    func undo(_ posts: [(postID: String, at: Date)]) throws {
        guard !posts.isEmpty else { return }
        try pool.write { db in
            for post in posts.reversed() {
                let arguments: StatementArguments = [post.postID, post.at.timeIntervalSince1970]
                try db.execute(sql: "DELETE FROM strikes WHERE post_id = ? AND at = ?", arguments: arguments)
                try db.execute(sql: "DELETE FROM posts WHERE post_id = ? AND at = ?", arguments: arguments)
                try db.execute(sql: "DELETE FROM escalations WHERE post_id = ? AND at = ?", arguments: arguments)
                try db.execute(sql: """
                    INSERT OR REPLACE INTO strikes(post_id, guideline, author, at)
                        SELECT post_id, guideline, author, at FROM superseded WHERE post_id = ? AND by_at = ? AND kind = 'strike'
                    """, arguments: arguments)
                try db.execute(sql: """
                    INSERT OR REPLACE INTO posts(post_id, author, at, digest)
                        SELECT post_id, author, at, digest FROM superseded WHERE post_id = ? AND by_at = ? AND kind = 'post'
                    """, arguments: arguments)
                try db.execute(sql: """
                    INSERT OR REPLACE INTO escalations(post_id, author, action, at)
                        SELECT post_id, author, action, at FROM superseded WHERE post_id = ? AND by_at = ? AND kind = 'escalation'
                    """, arguments: arguments)
                try db.execute(sql: "DELETE FROM superseded WHERE post_id = ? AND by_at = ?", arguments: arguments)
            }
        }
    }

    /// Applies one batch in one transaction (one WAL fsync per batch, not per post), in
    /// order: a pardon forgives the strikes of posts judged before it, also those that were
    /// still waiting in the batch when the moderator ran `warden pardon`.
    func commit(_ operations: [LedgerOperation]) throws {
        guard !operations.isEmpty else { return }
        try pool.write { db in
            let deleteStrikes = try db.cachedStatement(sql: "DELETE FROM strikes WHERE post_id = ?")
            let insertStrike = try db.cachedStatement(sql: "INSERT OR REPLACE INTO strikes(post_id, guideline, author, at) VALUES (?, ?, ?, ?)")
            let upsertPost = try db.cachedStatement(sql: "INSERT OR REPLACE INTO posts(post_id, author, at, digest) VALUES (?, ?, ?, ?)")
            let upsertEscalation = try db.cachedStatement(sql: "INSERT OR REPLACE INTO escalations(post_id, author, action, at) VALUES (?, ?, ?, ?)")
            let deleteEscalation = try db.cachedStatement(sql: "DELETE FROM escalations WHERE post_id = ?")
            let recorded = Date().timeIntervalSince1970
            for operation in operations {
                switch operation {
                case .judged(let change):
                    let at = change.at.timeIntervalSince1970
                    if change.replaces { try Self.setAside(db, postID: change.postID, by: at, recorded: recorded) }
                    try deleteStrikes.execute(arguments: [change.postID])
                    for guideline in change.strikeGuidelines {
                        try insertStrike.execute(arguments: [change.postID, guideline, change.author, at])
                    }
                    try upsertPost.execute(arguments: [change.postID, change.author, at, Int64(bitPattern: change.textDigest)])
                    if let escalation = change.escalation {
                        try upsertEscalation.execute(arguments: [change.postID, change.author, escalation.rawValue, at])
                    } else if change.replaces {
                        // An edit that no longer crosses a threshold: the daemon forgot the
                        // escalation in memory, and a restart must not bring it back.
                        try deleteEscalation.execute(arguments: [change.postID])
                    }
                case .pardon(let pardon):
                    if let escalation = pardon.escalation { try Self.applyEscalation(db, pardon: pardon, action: escalation) } else if let postID = pardon.postID { try Self.applyTakeBack(db, postID: postID) } else {
                        try Self.applyPardon(db, author: pardon.author, guideline: pardon.guideline)
                    }
                }
            }
        }
    }

    /// Copies the rows of an earlier version of `postID` into `superseded`, before an edit
    /// (event time `by`) replaces them.
    private static func setAside(_ db: Database, postID: String, by: Double, recorded: Double) throws {
        let arguments: StatementArguments = [by, recorded, postID, by]
        try db.execute(sql: """
            INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, guideline)
                SELECT post_id, ?, ?, 'strike', author, at, guideline FROM strikes WHERE post_id = ? AND at <> ?
            """, arguments: arguments)
        try db.execute(sql: """
            INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, digest)
                SELECT post_id, ?, ?, 'post', author, at, digest FROM posts WHERE post_id = ? AND at <> ?
            """, arguments: arguments)
        try db.execute(sql: """
            INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, action)
                SELECT post_id, ?, ?, 'escalation', author, at, action FROM escalations WHERE post_id = ? AND at <> ?
            """, arguments: arguments)
    }

    /// Forgets history older than the longest window and strikes older than the strike
    /// window, so the ledger stays as small as the policy needs. Set-aside rows are only
    /// needed while an edit may still be in processing/ (seconds): an hour is plenty.
    func prune(strikesBefore: Date, postsBefore: Date) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM superseded WHERE recorded < ?", arguments: [Date().timeIntervalSince1970 - 3600])
            try db.execute(sql: "DELETE FROM strikes WHERE at < ?", arguments: [strikesBefore.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM posts WHERE at < ?", arguments: [postsBefore.timeIntervalSince1970])
        }
    }

    /// The highest pardon id so far: pardons after it are news to the daemon.
    func lastPardonID() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM pardons") ?? 0 }
    }

    func pardons(after id: Int64) throws -> [Pardon] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, author, guideline, at, post_id, escalation FROM pardons WHERE id > ? ORDER BY id", arguments: [id]).map {
                Pardon(id: $0["id"], author: $0["author"], guideline: $0["guideline"], at: Date(timeIntervalSince1970: $0["at"]), postID: $0["post_id"],
                       escalation: ($0["escalation"] as String?).flatMap(Action.init(rawValue:)))
            }
        }
    }

    /// SQLite's `data_version` on the writer connection changes only when *another*
    /// connection (`warden pardon`) committed: a cheap way to notice pardons without polling
    /// the pardons table on every batch.
    func dataVersion() throws -> Int64 {
        try pool.writeWithoutTransaction { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }

    // MARK: Moderator side (`warden strikes`, `warden pardon`)

    /// An author's standing in the ledger, for `warden strikes`.
    public struct Standing: Sendable {
        public var author: String
        public var strikes: [Strike]
        public var escalations: [EscalationRecord]
        public var pardons: [Pardon]
    }

    public func standing(of author: String) throws -> Standing {
        try pool.read { db in
            let strikes = try Row.fetchAll(db, sql: "SELECT post_id, guideline, at FROM strikes WHERE author = ? ORDER BY at", arguments: [author]).map {
                Strike(postID: $0["post_id"], guideline: $0["guideline"], at: Date(timeIntervalSince1970: $0["at"]))
            }
            let escalations = try Row.fetchAll(db, sql: "SELECT post_id, action, at FROM escalations WHERE author = ? ORDER BY at", arguments: [author]).compactMap { row -> EscalationRecord? in
                guard let action = Action(rawValue: row["action"]) else { return nil }
                return EscalationRecord(postID: row["post_id"], action: action, at: Date(timeIntervalSince1970: row["at"]))
            }
            // SELECT *: a ledger opened read-only is not migrated and may lack the later columns.
            let pardons = try Row.fetchAll(db, sql: "SELECT * FROM pardons WHERE author = ? ORDER BY id", arguments: [author]).map {
                Pardon(id: $0["id"], author: $0["author"], guideline: $0["guideline"], at: Date(timeIntervalSince1970: $0["at"]),
                       moderator: $0["moderator"], reason: $0["reason"], postID: $0["post_id"],
                       escalation: ($0["escalation"] as String?).flatMap(Action.init(rawValue:)))
            }
            return Standing(author: author, strikes: strikes, escalations: escalations, pardons: pardons)
        }
    }

    /// Authors under an escalation now, the strongest one each, for `warden strikes --escalated`.
    public func escalatedAuthors() throws -> [(author: String, escalation: EscalationRecord)] {
        try pool.read { db in
            var strongest: [String: EscalationRecord] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT author, post_id, action, at FROM escalations ORDER BY at") {
                guard let action = Action(rawValue: row["action"]) else { continue }
                let record = EscalationRecord(postID: row["post_id"], action: action, at: Date(timeIntervalSince1970: row["at"]))
                let author: String = row["author"]
                if strongest[author].map({ $0.action < action }) ?? true { strongest[author] = record }
            }
            return strongest.sorted { $0.key < $1.key }.map { (author: $0.key, escalation: $0.value) }
        }
    }

    /// Guidelines that have strikes in the ledger (a pardon may name one the rules no longer have).
    public func struckGuidelines() throws -> Set<String> {
        try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT guideline FROM strikes")) }
    }

    /// Forgives an author's strikes (all, or one guideline's) and lifts any escalation.
    /// Returns the number of strikes removed. A running daemon applies it within a second.
    @discardableResult
    public func pardon(author: String, guideline: String?, at: Date = Date(), moderator: String? = nil, reason: String? = nil) throws -> Int {
        try pool.write { db in
            let removed = try Self.applyPardon(db, author: author, guideline: guideline)
            try db.execute(sql: "INSERT INTO pardons(author, guideline, at, strikes_removed, moderator, reason) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [author, guideline, at.timeIntervalSince1970, removed, moderator, reason])
            return removed
        }
    }

    @discardableResult
    private static func applyPardon(_ db: Database, author: String, guideline: String?) throws -> Int {
        if let guideline {
            try db.execute(sql: "DELETE FROM strikes WHERE author = ? AND guideline = ?", arguments: [author, guideline])
        } else {
            try db.execute(sql: "DELETE FROM strikes WHERE author = ?", arguments: [author])
        }
        let removed = db.changesCount
        try db.execute(sql: "DELETE FROM escalations WHERE author = ?", arguments: [author])
        // A pardon is not undone by crash recovery: forget the set-aside rows it covers.
        try db.execute(sql: "DELETE FROM superseded WHERE author = ?1 AND (kind = 'escalation' OR (kind = 'strike' AND (?2 IS NULL OR guideline = ?2)))",
                       arguments: [author, guideline])
        return removed
    }
}
