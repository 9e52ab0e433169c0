import Foundation
import GRDB
import Synchronization
import Testing
import WardenCore
@testable import WardenConsole

/// Several hosts, one review queue: two "instances" (each its own spool, decisions.jsonl and
/// instance name) indexing into one PostgreSQL store, each with its own desk, as two
/// `warden console` processes on two hosts. Runs when `WARDEN_TEST_POSTGRES` is set.
@Suite(.enabled(if: ReviewBackend.serverURL != nil, "needs WARDEN_TEST_POSTGRES (scripts/pg-cluster.sh run starts a private cluster)"))
struct SharedReviewTests {
    /// Host A and host B of one group.
    static func twoHosts() throws -> (a: DeskFixture, b: DeskFixture) {
        let a = try DeskFixture(.postgres, instance: "host-a")
        let b = try DeskFixture(.postgres, instance: "host-b", sharing: a)
        try a.append([DeskFixture.line("a-1", at: "2026-11-22T09:00:00Z", ruleset: "sha256:aaa"),
                      DeskFixture.line("a-2", action: "allow", guidelines: [], rules: [], at: "2026-11-22T09:30:00Z", ruleset: "sha256:aaa")])
        try b.append([DeskFixture.line("b-1", author: "u-2", at: "2026-11-22T10:00:00Z", ruleset: "sha256:bbb")])
        return (a, b)
    }

    @Test func everyHostListsEveryInstancesItemsTaggedWithInstanceAndRuleset() throws {
        let (a, b) = try Self.twoHosts()
        for desk in [a.desk, b.desk] {
            let queue = try desk.queue()
            #expect(queue.map(\.itemID) == ["a-1", "b-1"], "one queue, oldest first, both hosts' held posts")
            #expect(queue.map(\.instance) == ["host-a", "host-b"])
            #expect(queue.map(\.ruleset) == ["sha256:aaa", "sha256:bbb"])
            #expect(try desk.pendingCount() == 2)
            #expect(try desk.search("a-2", in: .post).map(\.postID) == ["a-2"], "every host's past decisions are searchable")
        }
        // Each indexer read only its own log, and its cursor is its own.
        #expect(try a.indexer().catchUp() == 0)
        #expect(try b.indexer().catchUp() == 0)
        #expect(try a.count("decisions") == 3)
    }

    @Test func theInstancesAndTheirRulesetsAreListedAndADisagreementShows() throws {
        let (a, b) = try Self.twoHosts()
        let instances = try Instances.list(b.store)
        #expect(instances.map(\.name) == ["host-a", "host-b"])
        #expect(instances.map(\.ruleset) == ["sha256:aaa", "sha256:bbb"])
        #expect(Instances.disagree(instances))
        // Host B deploys host A's rules: its next decision carries them, and the group agrees.
        try b.append([DeskFixture.line("b-2", action: "allow", guidelines: [], rules: [], at: "2026-11-22T11:00:00Z", ruleset: "sha256:aaa")])
        let after = try Instances.list(a.store)
        #expect(after.map(\.ruleset) == ["sha256:aaa", "sha256:aaa"])
        #expect(!Instances.disagree(after))
        #expect(Instances.prevailingRuleset(after) == "sha256:aaa")
    }

    /// A host taken out of the group (its console silent for over a day) no longer counts as a disagreement.
    @Test func anInstanceNotSeenForADayIsLeftOutOfTheComparison() {
        let now = Date()
        let instances = [
            InstanceStatus(name: "old", ruleset: "sha256:old", lastSeen: now.addingTimeInterval(-2 * 86_400), lastDecidedAt: nil),
            InstanceStatus(name: "web-1", ruleset: "sha256:new", lastSeen: now, lastDecidedAt: now),
        ]
        #expect(!Instances.disagree(instances, now: now))
        #expect(Instances.prevailingRuleset(instances, now: now) == "sha256:new")
        #expect(Instances.disagree(instances, now: now.addingTimeInterval(-2 * 86_400)), "both current two days ago, and different")
    }

    @Test func aClaimTakenOnOneHostIsRefusedOnTheOther() throws {
        let (a, b) = try Self.twoHosts()
        guard case .mine(let version, _) = try a.desk.claim("b-1", moderator: "alice") else {
            Issue.record("alice on host A claims host B's item"); return
        }
        guard case .held(by: "alice", _, _) = try b.desk.claim("b-1", moderator: "bob") else {
            Issue.record("bob on host B must see alice's claim"); return
        }
        let outcome = try b.desk.submit(ReviewSubmission(itemID: "b-1", version: version, moderator: "bob", verdict: .released, reason: "fine"))
        guard case .refused(let sentence) = outcome else { Issue.record("bob's submit must be refused"); return }
        #expect(sentence.contains("alice is reviewing this item"), "\(sentence)")
        #expect(!FileManager.default.fileExists(atPath: b.root + "/outbox/b-1.json"), "nothing written on host B")
    }

    @Test func aReviewOnOneHostIsVisibleOnTheOtherAtOnce() throws {
        let (a, b) = try Self.twoHosts()
        guard case .mine(let version, _) = try b.desk.claim("a-1", moderator: "bob") else { Issue.record("claim"); return }
        guard case .written = try b.desk.submit(ReviewSubmission(itemID: "a-1", version: version, moderator: "bob", verdict: .released, reason: "fine")) else {
            Issue.record("bob's release must be written"); return
        }
        // The action file is written where the moderator acted (host B's outbox: docs/CONSOLE.md).
        #expect(try b.actionFile("a-1")["action"] as? String == "allow")
        let item = try #require(try a.desk.item("a-1"))
        #expect(item.status == "resolved" && item.resolvedBy == "bob" && item.outcome == "released")
        #expect(try a.desk.queue().map(\.itemID) == ["b-1"])
        #expect(try a.desk.reviews(of: "a-1").count == 1)
        #expect(try AuditLog.entries(a.store).map(\.item) == ["a-1"])
        guard case .refused(let sentence) = try a.desk.submit(ReviewSubmission(itemID: "a-1", version: version, moderator: "alice", verdict: .released, reason: "fine")) else {
            Issue.record("alice's late submit on host A must be refused"); return
        }
        #expect(sentence.contains("bob already released this"), "\(sentence)")
    }

    /// Moderators on two hosts submitting one item at the same instant (eight threads, four
    /// per host, released together): exactly one is written, one review, one audit row.
    @Test func concurrentSubmitsOnTwoHostsWriteExactlyOnce() throws {
        let (a, b) = try Self.twoHosts()
        let version = try #require(try a.desk.item("b-1")).version
        let desks = [a.desk, b.desk]
        let outcomes = Mutex<[ReviewOutcome]>([])
        let start = DispatchGroup()
        start.enter()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { start.leave() }
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            start.wait()
            let submission = ReviewSubmission(itemID: "b-1", version: version, moderator: "m\(index)", verdict: .released, reason: "race")
            let outcome = (try? desks[index % 2].submit(submission)) ?? .refused("error")
            outcomes.withLock { $0.append(outcome) }
        }
        let written = outcomes.withLock { $0 }.filter { if case .written = $0 { true } else { false } }
        #expect(written.count == 1)
        #expect(try a.count("reviews") == 1)
        #expect(try b.count("audit") == 1)
    }

    @Test func aUserAddedOnOneHostLogsInOnTheOther() async throws {
        let (a, b) = try Self.twoHosts()
        var onA = Accounts(store: a.store)
        onA.bcryptCost = 4
        try onA.add(name: "carol", role: .moderator, password: "a long enough password")
        let onB = Accounts(store: b.store)
        guard case .success(let token, _) = try await onB.login(name: "carol", password: "a long enough password", client: "10.0.0.9") else {
            Issue.record("carol logs in on host B"); return
        }
        #expect(try await onA.session(token: token)?.user.name == "carol", "sessions are shared too")
        #expect(throws: ConsoleError.self) { try Accounts(store: b.store).add(name: "carol", role: .admin, password: "another long password") }
    }
}

/// What one host's store records about its instance, on either backend.
@Suite struct InstanceTaggingTests {
    @Test(arguments: ReviewBackend.available) func eachItemNamesItsInstanceAndRuleset(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend, instance: "web-1")
        try f.append([DeskFixture.line("p1", ruleset: "sha256:abc")])
        let item = try #require(try f.desk.item("p1"))
        #expect(item.instance == "web-1")
        #expect(item.ruleset == "sha256:abc")
        let instances = try Instances.list(f.store)
        #expect(instances.map(\.name) == ["web-1"])
        #expect(instances.first?.ruleset == "sha256:abc")
        #expect(!Instances.disagree(instances))
    }

    /// A database of the first console version (one unnamed cursor) carries on where it was.
    @Test func anOlderSingleHostCursorIsTakenOverByTheNamedInstance() throws {
        let f = try DeskFixture(.sqlite, instance: "web-1")
        try f.append([DeskFixture.line("p1")])
        try f.store.write { db in
            try db.execute("UPDATE log_cursors SET instance = ''")
        }
        let renamed = LogIndexer(logPath: f.logPath, instance: "web-1", store: f.store)
        #expect(try renamed.catchUp() == 0, "the unnamed cursor is used: nothing read twice")
        try f.append([DeskFixture.line("p2")])
        #expect(try f.store.read { db in try db.value("SELECT COUNT(*) FROM log_cursors") as Int? } == 1)
    }
}

/// A host upgraded from the console's first version keeps its queue and its place in the log.
@Suite struct SQLiteUpgradeTests {
    @Test func aVersionOneDatabaseGainsRulesetsAndKeepsItsCursor() throws {
        let f = try DeskFixture(.sqlite, instance: "web-1")
        let path = f.root + "/state/old-review.sqlite"
        let line = DeskFixture.line("p1", ruleset: "sha256:old")
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteReviewStore.migrator.migrate(pool, upTo: "v1")
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO decisions(post_id, kind, author, action, guidelines, rules, decided_at, text, line)
                        VALUES ('p1', 'post', 'u-1', 'hold', ',profanity,', ',profanity.mild,', 100, 'what the heck', ?);
                    INSERT INTO items(item_id, post_id, kind, status, priority, queued_at, author, guidelines, rules)
                        VALUES ('p1', 'p1', 'held', 'pending', 1, 100, 'u-1', ',profanity,', ',profanity.mild,');
                    INSERT INTO log_cursor(id, inode, offset) VALUES (1, 42, 4242);
                    """, arguments: [line])
            }
        }
        let upgraded = try SQLiteReviewStore(path: path)
        let item: SQLRow? = try upgraded.read { db in try db.row("SELECT instance, ruleset FROM items WHERE item_id = 'p1'") }
        #expect(try item?["ruleset"] as String? == "sha256:old", "the ruleset is read back from the logged line")
        #expect(try item?["instance"] as String? == nil, "which host judged it was not recorded then")
        let cursor: SQLRow? = try upgraded.read { db in try db.row("SELECT instance, inode, byte_offset FROM log_cursors") }
        #expect(try cursor?["instance"] as String? == "")
        #expect(try cursor?["byte_offset"] as Int? == 4242)
    }
}

/// The log read twice (an instance renamed, a cursor lost) changes nothing that was decided.
@Suite struct ReindexTests {
    @Test(arguments: ReviewBackend.available) func aLogReadAgainReopensNothingAndCountsNoHitTwice(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend, instance: "web-1")
        try f.append([DeskFixture.line("p1"), DeskFixture.line("p2")])
        guard case .written = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "alice", verdict: .released, reason: "fine")) else {
            Issue.record("release p1"); return
        }
        let renamed = LogIndexer(logPath: f.logPath, instance: "web-1-renamed", store: f.store)
        #expect(try renamed.catchUp() == 2, "a new name has no cursor: the whole log is read again")
        #expect(try f.desk.item("p1")?.status == "resolved", "a released post stays released")
        #expect(try f.desk.item("p2")?.version == 1)
        #expect(try f.desk.ruleStats()["profanity.mild"]?.hits == 2)
    }
}

/// Lines are written in chunks of multi-row statements; what they mean is still line by line.
@Suite struct ChunkedIndexingTests {
    @Test(arguments: ReviewBackend.available) func anEditRightBehindItsPostIsAppliedInOrder(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([
            DeskFixture.line("p1"), DeskFixture.line("p1", action: "allow", guidelines: [], rules: [], at: "2026-11-22T10:01:00Z"),
            DeskFixture.line("p2"), DeskFixture.line("p2", at: "2026-11-22T10:01:00Z", text: "edited"),
        ])
        #expect(try f.desk.item("p1")?.outcome == "superseded", "held, then let through: out of the queue")
        #expect(try f.desk.item("p2")?.version == 2, "held twice: one item, re-judged once")
        #expect(try f.desk.decision("p2")?.text == "edited")
        #expect(try f.desk.queue().map(\.itemID) == ["p2"])
    }

    @Test(arguments: ReviewBackend.available) func aLargeCatchUpIndexesEveryLineOnce(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        let count = DecisionRows.chunkSize * 2 + 17
        try f.append((0..<count).map { index in
            index % 3 == 0 ? DeskFixture.line("p\(index)") : DeskFixture.line("p\(index)", action: "allow", guidelines: [], rules: [])
        })
        #expect(try f.count("decisions") == count)
        #expect(try f.desk.pendingCount() == (count + 2) / 3)
        #expect(try f.desk.ruleStats()["profanity.mild"]?.hits == (count + 2) / 3)
    }
}

/// A single host joining a group brings its users, reviews, audit log and settled queue.
@Suite(.enabled(if: ReviewBackend.serverURL != nil, "needs WARDEN_TEST_POSTGRES"))
struct ReviewImportTests {
    @Test func aSingleHostsStateMovesIntoTheSharedStoreOnce() throws {
        let single = try DeskFixture(.sqlite, instance: "web-1")
        try single.append([DeskFixture.line("p1"), DeskFixture.line("p2")])
        guard case .written = try single.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "alice", verdict: .released, reason: "fine")) else {
            Issue.record("release p1"); return
        }
        var accounts = Accounts(store: single.store)
        accounts.bcryptCost = 4
        try accounts.add(name: "alice", role: .admin, password: "a long enough password")
        let sqlite = try #require(single.store as? SQLiteReviewStore)

        let shared = try DeskFixture(.postgres, instance: "web-2")
        try shared.append([DeskFixture.line("q1", author: "u-9")])
        let counts = try ReviewImport.copy(from: sqlite, to: shared.store, instance: "web-1")
        #expect(counts.first { $0.table == "decisions" }?.rows == 2)
        #expect(try shared.desk.item("p1")?.status == "resolved", "what moderators settled stays settled")
        #expect(try shared.desk.queue().map(\.itemID) == ["p2", "q1"])
        #expect(try shared.desk.item("p2")?.instance == "web-1")
        #expect(try Accounts(store: shared.store).users().map(\.name) == ["alice"])
        #expect(try AuditLog.entries(shared.store).map(\.item) == ["instance:web-1", "p1"], "the import is in the audit log too")
        #expect(try shared.desk.ruleStats()["profanity.mild"]?.hits == 3)

        // web-1's console then carries on from where its log was read: nothing indexed twice.
        let indexer = LogIndexer(logPath: single.logPath, instance: "web-1", store: shared.store)
        #expect(try indexer.catchUp() == 0)
        #expect(throws: ReviewStoreError.self, "a second import would double the history") {
            try ReviewImport.copy(from: sqlite, to: shared.store, instance: "web-1")
        }
    }
}
