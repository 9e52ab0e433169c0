import Foundation
import Logging
import Testing
@testable import WardenCore
@testable import WardenDaemon

/// The ledgers the daemon can run on. PostgreSQL only when `WARDEN_TEST_POSTGRES` names a
/// server (a `postgres://` URL with rights to create databases): `make test` starts a private
/// cluster and sets it (scripts/pg-cluster.sh), so both always run there.
enum StorageBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var serverURL: String? {
        ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var available: [StorageBackend] { serverURL == nil ? [.sqlite] : [.sqlite, .postgres] }
}

/// A fresh, empty store of one backend: a temporary SQLite file, or a new PostgreSQL database.
final class FreshStore {
    let store: any LedgerStore & ModeratorLedger
    private let directory: TemporaryDirectory?
    /// The PostgreSQL database's settings, to open a second instance on the same data.
    let settings: PostgresSettings?

    init(_ backend: StorageBackend) throws {
        switch backend {
        case .sqlite:
            let directory = try TemporaryDirectory()
            self.directory = directory
            settings = nil
            store = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        case .postgres:
            directory = nil
            let settings = try Self.freshDatabase()
            self.settings = settings
            store = try PostgresLedger(settings: settings, logger: Logger(label: "test"))
        }
    }

    /// The same data opened again, as a moderator's command (another process) opens it.
    func anotherConnection() throws -> any LedgerStore & ModeratorLedger {
        if let settings { return try PostgresLedger(settings: settings, logger: Logger(label: "test")) }
        return try Ledger(path: (directory?.path ?? "") + "/ledger.sqlite", durable: false)
    }

    /// Creates `warden_test_…` on the test server; the cluster is thrown away at the end.
    static func freshDatabase() throws -> PostgresSettings {
        guard let url = StorageBackend.serverURL else { throw LedgerUsageError(message: "WARDEN_TEST_POSTGRES is not set") }
        let admin = try PostgresSettings.parse(url).get()
        let name = "warden_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let sessions = try PostgresSessions(settings: admin, logger: Logger(label: "test"))
        defer { sessions.close() }
        try sessions.withConnection { try $0.run("CREATE DATABASE \(unescaped: name)", logger: Logger(label: "test")) }
        var settings = admin
        settings.database = name
        return settings
    }
}

private func change(_ post: String, _ author: String, at seconds: TimeInterval, strikes: [String] = [], escalation: Action? = nil,
                    digest: UInt64 = 42) -> LedgerChange {
    LedgerChange(postID: post, author: author, at: Date(timeIntervalSince1970: seconds), textDigest: digest,
                 strikeGuidelines: strikes, escalation: escalation)
}

/// One suite for both stores: what the daemon writes and reads back must mean the same on each.
@Suite struct StorageTests {
    @Test(arguments: StorageBackend.available)
    func anAuthorReadsBackAsCommitted(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }
        let ledger = fresh.store
        #expect(try ledger.author("u1", postsSince: .distantPast, maxPosts: 512) == nil)
        try ledger.commit([
            .judged(change("p1", "u1", at: 100.25, strikes: ["profanity"], digest: UInt64.max - 7)),
            .judged(change("p2", "u1", at: 200.5, strikes: ["profanity", "spam"], escalation: .holdAuthor)),
            .judged(change("p3", "u2", at: 150)),
        ])
        let record = try #require(try ledger.author("u1", postsSince: Date(timeIntervalSince1970: 0), maxPosts: 512))
        #expect(record.posts == [PostTrace(postID: "p1", at: Date(timeIntervalSince1970: 100.25), textDigest: UInt64.max - 7),
                                 PostTrace(postID: "p2", at: Date(timeIntervalSince1970: 200.5), textDigest: 42)])
        #expect(record.standing.strikes.map(\.guideline).sorted() == ["profanity", "profanity", "spam"])
        #expect(record.standing.escalations.map(\.action) == [.holdAuthor])
        // Only posts since the given time, newest first up to the limit, returned oldest first.
        #expect(try ledger.author("u1", postsSince: Date(timeIntervalSince1970: 150), maxPosts: 512)?.posts.map(\.postID) == ["p2"])
        #expect(try ledger.author("u1", postsSince: .distantPast, maxPosts: 1)?.posts.map(\.postID) == ["p2"])
    }

    @Test(arguments: StorageBackend.available)
    func rejudgingReplacesAPostsStrikes(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }  // the SQLite file's directory lives as long as the test
        let ledger = fresh.store
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity"]))])
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity", "spam"]))])
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["spam"]))])
        #expect(try ledger.standing(of: "u1").strikes.map(\.guideline) == ["spam"])
    }

    /// Crash recovery: undoing a committed edit puts back the version it replaced.
    @Test(arguments: StorageBackend.available)
    func undoOfACommittedEditRestoresTheVersionItReplaced(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }  // the SQLite file's directory lives as long as the test
        let ledger = fresh.store
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity"], escalation: .holdAuthor))])
        var edit = change("p1", "u1", at: 300, strikes: ["spam"])
        edit.replaces = true
        try ledger.commit([.judged(change("p2", "u1", at: 200, strikes: ["spam"])), .judged(edit)])
        try ledger.undo([("p2", Date(timeIntervalSince1970: 200)), ("p1", Date(timeIntervalSince1970: 300))])
        let record = try #require(try ledger.author("u1", postsSince: .distantPast, maxPosts: 512))
        #expect(record.standing.strikes == [Strike(postID: "p1", guideline: "profanity", at: Date(timeIntervalSince1970: 100))])
        #expect(record.standing.escalations.map(\.action) == [.holdAuthor])
        #expect(record.posts.map(\.postID) == ["p1"])
    }

    @Test(arguments: StorageBackend.available)
    func undoKeepsTheEarlierVersionOfAnEditThatWasNeverCommitted(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }  // the SQLite file's directory lives as long as the test
        let ledger = fresh.store
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity"], escalation: .holdAuthor))])
        try ledger.undo([("p1", Date(timeIntervalSince1970: 150))])
        let record = try #require(try ledger.author("u1", postsSince: .distantPast, maxPosts: 512))
        #expect(record.standing.strikes.map(\.postID) == ["p1"])
        #expect(record.standing.escalations.map(\.postID) == ["p1"])
    }

    @Test(arguments: StorageBackend.available)
    func pardonsTakeBacksAndManualEscalations(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }  // the SQLite file's directory lives as long as the test
        let ledger = fresh.store
        try ledger.commit([
            .judged(change("p1", "u1", at: 100, strikes: ["profanity"])),
            .judged(change("p2", "u1", at: 101, strikes: ["spam"], escalation: .holdAuthor)),
            .judged(change("p3", "u2", at: 102, strikes: ["spam"])),
        ])
        let before = try ledger.dataVersion()
        #expect(try ledger.lastPardonID() == 0)
        let moderator = try fresh.anotherConnection()
        #expect(try moderator.pardon(author: "u1", guideline: "spam", at: Date(timeIntervalSince1970: 500), moderator: "ann", reason: "context") == 1)
        #expect(try ledger.dataVersion() != before, "the daemon notices the pardon")
        #expect(try ledger.pardons(after: 0).map(\.guideline) == ["spam"])
        let standing = try ledger.standing(of: "u1")
        #expect(standing.pardons.map(\.moderator) == ["ann"])
        #expect(standing.strikes.map(\.guideline) == ["profanity"])
        #expect(standing.escalations.isEmpty)

        #expect(try ledger.takeBack(postID: "p3", author: "u2", at: Date(timeIntervalSince1970: 600)) == 1)
        #expect(try ledger.standing(of: "u2").strikes.isEmpty)
        try ledger.escalate(author: "u2", to: .blockAuthor, at: Date(timeIntervalSince1970: 700))
        #expect(try ledger.standing(of: "u2").escalations.map(\.action) == [.blockAuthor])
        #expect(throws: LedgerUsageError.self) { try ledger.escalate(author: "u2", to: .delete, at: Date()) }
        let pardons = try ledger.pardons(after: 0)
        #expect(pardons.count == 3)
        #expect(try ledger.lastPardonID() == pardons.last?.id)
        #expect(try ledger.pardons(after: pardons[1].id).map(\.escalation) == [.blockAuthor])
    }

    /// A pardon applied in order with a batch (the SQLite daemon's path) forgives what was judged before it.
    @Test(arguments: StorageBackend.available)
    func aPardonInABatchForgivesWhatCameBeforeIt(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }  // the SQLite file's directory lives as long as the test
        let ledger = fresh.store
        try ledger.commit([
            .judged(change("p1", "u1", at: 100, strikes: ["profanity"], escalation: .holdAuthor)),
            .pardon(Pardon(id: 1, author: "u1", guideline: nil, at: Date(timeIntervalSince1970: 150))),
            .judged(change("p2", "u1", at: 200, strikes: ["profanity"])),
        ])
        let standing = try ledger.standing(of: "u1")
        #expect(standing.strikes.map(\.postID) == ["p2"])
        #expect(standing.escalations.isEmpty)
    }

    @Test(arguments: StorageBackend.available)
    func pruneKeepsOnlyWhatTheWindowsNeed(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }  // the SQLite file's directory lives as long as the test
        let ledger = fresh.store
        try ledger.commit([.judged(change("old", "u1", at: 10, strikes: ["profanity"])), .judged(change("new", "u1", at: 1000, strikes: ["profanity"]))])
        try ledger.prune(strikesBefore: Date(timeIntervalSince1970: 500), postsBefore: Date(timeIntervalSince1970: 500))
        #expect(try ledger.standing(of: "u1").strikes.map(\.postID) == ["new"])
        #expect(try ledger.author("u1", postsSince: .distantPast, maxPosts: 512)?.posts.map(\.postID) == ["new"])
    }

    @Test(arguments: StorageBackend.available)
    func theShadowGuardsStateRoundTrips(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }  // the SQLite file's directory lives as long as the test
        let ledger = fresh.store
        #expect(try ledger.shadowGuardState().seen.isEmpty)
        let changed = Date(timeIntervalSince1970: 1_000.5)
        try ledger.saveShadowGuard(seen: ["r1": .init(fingerprint: "f1", changedAt: changed), "r2": .init(fingerprint: "f2", changedAt: .distantPast)],
                                   demoted: ["r1"])
        try ledger.confirmRule("r2", at: Date(timeIntervalSince1970: 2_000))
        var state = try ledger.shadowGuardState()
        #expect(state.seen["r1"]?.fingerprint == "f1")
        #expect(state.seen["r1"]?.changedAt == changed)
        #expect(state.demoted == ["r1"])
        #expect(state.confirmed == ["r2": Date(timeIntervalSince1970: 2_000)])
        try ledger.saveDemotions([])
        state = try ledger.shadowGuardState()
        #expect(state.demoted.isEmpty)
        #expect(try ledger.ruleConfirmations() == ["r2": Date(timeIntervalSince1970: 2_000)])
        // The guard itself runs on either store.
        #expect(try ShadowGuard(ledger: ledger).demoted.isEmpty)
    }

    /// Only a store other hosts also write asks for the per-author lock.
    @Test(arguments: StorageBackend.available)
    func onlyASharedStoreLocksAuthors(_ backend: StorageBackend) throws {
        let fresh = try FreshStore(backend)
        defer { withExtendedLifetime(fresh) {} }  // the SQLite file's directory lives as long as the test
        let ledger = fresh.store
        #expect((ledger.sharedAuthors != nil) == (backend == .postgres))
    }
}
