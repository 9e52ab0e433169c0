import Foundation
import WardenCore

/// Everything the daemon keeps about authors and rules between posts and across restarts:
/// strikes, escalations, pardons, author history, the shadow guard's state. Two
/// implementations: `Ledger` (SQLite under `state/`, one host, the default) and
/// `PostgresLedger` (one database shared by several hosts, `ledger: postgres://…`).
///
/// The daemon reaches its storage only through this protocol, so the commit order,
/// crash recovery and the shadow guard are the same code for both; what differs is who
/// else may write (`sharedAuthors`).
protocol LedgerStore: AnyObject, Sendable {
    /// Where the ledger is, for log lines and errors (never with a password).
    var location: String { get }

    /// One author's past as the judge needs it (see `Ledger.author`); nil if nothing is known.
    func author(_ author: String, postsSince: Date, maxPosts: Int) throws -> AuthorRecord?
    /// Undoes what the given posts wrote, before they are judged again at start-up (see `Ledger.undo`).
    func undo(_ posts: [(postID: String, at: Date)]) throws
    /// Applies one batch in one transaction, in order.
    func commit(_ operations: [LedgerOperation]) throws
    func prune(strikesBefore: Date, postsBefore: Date) throws

    /// The highest pardon id so far, and the pardons after one.
    func lastPardonID() throws -> Int64
    func pardons(after id: Int64) throws -> [Pardon]
    /// Changes when someone else may have written pardons: cheap to poll twice a second.
    func dataVersion() throws -> Int64

    // The shadow guard's state (Rules/ShadowGuard.swift).
    func shadowGuardState() throws -> Ledger.GuardState
    func saveShadowGuard(seen: [String: ShadowGuard.Seen], demoted: Set<String>) throws
    func saveDemotions(_ demoted: Set<String>) throws
    func ruleConfirmations() throws -> [String: Date]

    /// Non-nil when other daemons write the same authors (PostgreSQL): then an author's
    /// past in memory is never trusted, and each post's read-judge-write happens under the
    /// author's lock (`SharedAuthors.withAuthor`). Nil for SQLite, which only this daemon writes.
    var sharedAuthors: (any SharedAuthors)? { get }
}

/// A ledger several daemons write at once. How instances agree on an author's order:
/// a post's whole read-decide-write runs under a lock on the author (PostgreSQL: an advisory
/// lock on a 64-bit hash of the author id, held until the post's rows are committed), so two
/// instances never judge one author at the same time, and each post sees every post of the
/// author committed before it, on any host. docs/STORAGE.md has the reasoning and the cost.
protocol SharedAuthors: Sendable {
    /// Runs `body` with `author` locked; what `body` records is committed when it returns,
    /// and nothing is when it throws. `body` reads the author through the session, judges,
    /// and writes the post's change through it.
    func withAuthor<T>(_ author: String, _ body: (any AuthorSession) throws -> T) throws -> T
}

/// One author's locked transaction (see `SharedAuthors`).
protocol AuthorSession {
    func author(_ author: String, postsSince: Date, maxPosts: Int) throws -> AuthorRecord?
    /// Writes one judged post's change (what `commit` does for `.judged`).
    func record(_ change: LedgerChange) throws
    /// Undoes what one post wrote (as `LedgerStore.undo`, for one post), before it is judged
    /// again: after a failed attempt whose COMMIT may have happened, or at start-up recovery.
    func undo(postID: String, at: Date) throws
}

extension Ledger: LedgerStore {
    public var location: String { path }
    var sharedAuthors: (any SharedAuthors)? { nil }
}
