import Foundation
import Synchronization
import Testing
import WardenCore
@testable import WardenConsole

@Suite struct QueueTests {
    @Test(arguments: ReviewBackend.available) func appealsComeFirstThenTheOldestHeldPost(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([
            DeskFixture.line("p-new", at: "2026-11-22T12:00:00Z"),
            DeskFixture.line("p-old", at: "2026-11-22T09:00:00Z"),
            DeskFixture.line("p-allowed", action: "allow", guidelines: [], rules: []),
            DeskFixture.line("p-deleted", action: "delete", at: "2026-11-22T08:00:00Z"),
            DeskFixture.line("appeal-p-deleted", action: "allow", guidelines: [], rules: [], at: "2026-11-22T13:00:00Z", appealOf: "p-deleted"),
        ])
        let queue = try f.desk.queue()
        #expect(queue.map(\.itemID) == ["appeal-p-deleted", "p-old", "p-new"])
        #expect(queue.first?.postID == "p-deleted")
        #expect(queue.first?.guidelines == ["profanity"], "an appeal is shown beside the original decision's guidelines")
        #expect(try f.desk.pendingCount() == 3)
    }

    @Test(arguments: ReviewBackend.available) func filtersByGuidelineRuleAndAuthor(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([
            DeskFixture.line("a", guidelines: ["profanity"], rules: ["profanity.mild"], author: "u-1"),
            DeskFixture.line("b", guidelines: ["spam"], rules: ["spam.links"], author: "u-2"),
            DeskFixture.line("c", guidelines: ["spam", "profanity"], rules: ["spam.links", "profanity.mild"], author: "u-2"),
        ])
        #expect(try f.desk.queue(QueueFilter(guideline: "spam")).map(\.itemID) == ["b", "c"])
        #expect(try f.desk.queue(QueueFilter(rule: "profanity.mild")).map(\.itemID) == ["a", "c"])
        #expect(try f.desk.queue(QueueFilter(author: "u-1")).map(\.itemID) == ["a"])
        #expect(try f.desk.queue(QueueFilter(guideline: "spam", author: "u-1")).isEmpty)
        // LIKE's wildcards in a filter are literal characters, not patterns.
        #expect(try f.desk.queue(QueueFilter(rule: "%")).isEmpty)
    }

    @Test(arguments: ReviewBackend.available) func anEditThatIsNoLongerHeldLeavesTheQueue(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1")])
        try f.append([DeskFixture.line("p1", action: "allow", guidelines: [], rules: [])])
        #expect(try f.desk.pendingCount() == 0)
    }
}

@Suite struct ClaimTests {
    @Test(arguments: ReviewBackend.available) func openingAnItemClaimsItForOneModerator(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1")])
        let now = Date()
        guard case .mine(let version, _) = try f.desk.claim("p1", moderator: "alice", now: now) else { Issue.record("alice should get the claim"); return }
        #expect(version == 1)
        guard case .held(let holder, _, _) = try f.desk.claim("p1", moderator: "bob", now: now.addingTimeInterval(60)) else {
            Issue.record("bob should see alice's claim"); return
        }
        #expect(holder == "alice")
        // After the claim runs out, bob may take it.
        guard case .mine = try f.desk.claim("p1", moderator: "bob", now: now.addingTimeInterval(f.desk.claimDuration + 1)) else {
            Issue.record("an expired claim should pass to bob"); return
        }
    }

    @Test(arguments: ReviewBackend.available) func aSubmitDuringAnotherModeratorsClaimIsRefused(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1")])
        _ = try f.desk.claim("p1", moderator: "alice")
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "bob", verdict: .released, reason: "fine"))
        guard case .refused(let sentence) = outcome else { Issue.record("expected a refusal"); return }
        #expect(sentence.contains("alice is reviewing this item"))
        #expect(!FileManager.default.fileExists(atPath: f.root + "/outbox/p1.json"))
    }

    @Test(arguments: ReviewBackend.available) func theLoserOfARaceIsToldWhoActedAndNothingIsWrittenTwice(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1")])
        let first = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "alice", verdict: .released, reason: "Not a violation"))
        guard case .written(let file) = first else { Issue.record("alice's release should be written"); return }
        #expect(file.action == "allow")
        let second = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "bob", verdict: .removed, removal: "delete", reason: "rude"))
        guard case .refused(let sentence) = second else { Issue.record("bob's removal should be refused"); return }
        #expect(sentence.hasPrefix("alice already released this at "))
        let written = try f.actionFile("p1")
        #expect(written["action"] as? String == "allow")
        #expect((written["review"] as? [String: Any])?["moderator"] as? String == "alice")
        #expect(try f.count("reviews") == 1)
        #expect(try f.count("audit") == 1)
    }

    @Test(arguments: ReviewBackend.available) func concurrentSubmitsWriteExactlyOnce(_ backend: ReviewBackend) async throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1")])
        let outcomes = try await withThrowingTaskGroup(of: ReviewOutcome.self) { group in
            for moderator in ["m1", "m2", "m3", "m4", "m5", "m6"] {
                group.addTask {
                    try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: moderator, verdict: .released, reason: "ok"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { if case .written = $0 { true } else { false } }.count == 1)
        #expect(try f.count("reviews") == 1)
    }

    @Test(arguments: ReviewBackend.available) func aStaleVersionIsRefusedAfterTheDaemonReJudgedThePost(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1")])
        try f.append([DeskFixture.line("p1", text: "edited text")])
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "alice", verdict: .released, reason: "ok"))
        guard case .refused(let sentence) = outcome else { Issue.record("expected a refusal"); return }
        #expect(sentence.contains("changed since you opened it"))
        guard case .written = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 2, moderator: "alice", verdict: .released, reason: "ok")) else {
            Issue.record("the current version should be accepted"); return
        }
    }

    @Test(arguments: ReviewBackend.available) func aReasonIsRequired(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1")])
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "alice", verdict: .released, reason: "  "))
        #expect(outcome == .refused("A reason is required: pick one or write one. Nothing was written."))
    }
}

@Suite struct VerdictTests {
    @Test(arguments: ReviewBackend.available) func removalCarriesTheEditedMessageAndLabelsTheGuideline(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1")])
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "alice", verdict: .removed, removal: "hide",
                                                         message: "Edited by alice", reason: "Breaks the guideline"))
        guard case .written = outcome else { Issue.record("expected a write"); return }
        let file = try f.actionFile("p1")
        #expect(file["action"] as? String == "hide")
        #expect(file["message"] as? String == "Edited by alice")
        let labelled = try f.desk.labelledPosts().map { String(decoding: $0, as: UTF8.self) }
        #expect(labelled.count == 1)
        #expect(labelled.first?.contains("\"labels\":[\"profanity\"]") == true)
    }

    @Test(arguments: ReviewBackend.available) func anOverturnedAppealRestoresThePostAndTakesBackItsStrike(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([
            DeskFixture.line("p1", action: "delete"),
            DeskFixture.line("appeal-p1", action: "allow", guidelines: [], rules: [], text: "I was quoting", appealOf: "p1"),
        ])
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "appeal-p1", version: 1, moderator: "alice", verdict: .overturned, reason: "Context makes it acceptable"))
        guard case .written(let file) = outcome else { Issue.record("expected a write"); return }
        #expect(file.postID == "p1")
        #expect(file.action == "allow")
        #expect(file.appealID == "appeal-p1")
        #expect(file.message?.contains("you were right") == true)
        #expect(f.takenBack == ["p1"])
        let stats = try f.desk.ruleStats()
        #expect(stats["profanity.mild"]?.reversals == 1)
    }

    @Test(arguments: ReviewBackend.available) func anUpheldAppealKeepsTheRemovalAndTellsThePoster(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([
            DeskFixture.line("p1", action: "delete"),
            DeskFixture.line("appeal-p1", action: "allow", guidelines: [], rules: [], text: "it was a joke", appealOf: "p1"),
        ])
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "appeal-p1", version: 1, moderator: "alice", verdict: .upheld, reason: "Breaks the guideline"))
        guard case .written(let file) = outcome else { Issue.record("expected a write"); return }
        #expect(file.postID == "p1")
        #expect(file.action == "delete")
        #expect(file.outcome == "appeal_upheld")
        #expect(file.appealID == "appeal-p1")
        #expect(!(file.message ?? "").isEmpty)
        #expect(f.takenBack.isEmpty, "an upheld appeal keeps the strike")
        #expect(try f.desk.ruleStats()["profanity.mild"]?.reversals ?? 0 == 0)
        // The appeal left the queue; a second moderator is told it is settled.
        #expect(try f.desk.queue().isEmpty)
        guard case .refused(let sentence) = try f.desk.submit(ReviewSubmission(itemID: "appeal-p1", version: 1, moderator: "bob", verdict: .overturned, reason: "x")) else {
            Issue.record("a second verdict must be refused"); return
        }
        #expect(sentence.hasPrefix("alice already upheld the appeal on this"))
    }

    @Test(arguments: ReviewBackend.available) func aPastWrongRemovalIsRestoredOnce(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1", action: "delete")])
        let item = try #require(try f.desk.pastItem(for: "p1"))
        #expect(ReviewDesk.verdicts(kind: item.kind, decision: try f.desk.decision("p1")) == [.restored])
        guard case .written = try f.desk.submit(ReviewSubmission(itemID: item.itemID, version: item.version, moderator: "alice", verdict: .restored, reason: "quote")) else {
            Issue.record("expected a write"); return
        }
        guard case .refused(let sentence) = try f.desk.submit(ReviewSubmission(itemID: item.itemID, version: item.version, moderator: "bob", verdict: .restored, reason: "quote")) else {
            Issue.record("a second restore must be refused"); return
        }
        #expect(sentence.hasPrefix("alice already restored this"))
        #expect(f.takenBack == ["p1"])
    }

    @Test(arguments: ReviewBackend.available) func aMissedPostNeedsAGuidelineAndIsLabelledWithIt(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1", action: "allow", guidelines: [], rules: [])])
        let item = try #require(try f.desk.pastItem(for: "p1"))
        guard case .refused = try f.desk.submit(ReviewSubmission(itemID: item.itemID, version: item.version, moderator: "a", verdict: .missed, removal: "hide", reason: "spam")) else {
            Issue.record("a missed post without a guideline must be refused"); return
        }
        guard case .written(let file) = try f.desk.submit(ReviewSubmission(itemID: item.itemID, version: item.version, moderator: "a", verdict: .missed,
                                                                          removal: "hide", guideline: "spam", reason: "spam")) else {
            Issue.record("expected a write"); return
        }
        #expect(file.guidelines == ["spam"])
        #expect(file.message?.contains("No spam") == true)
    }
}

@Suite struct IndexerTests {
    @Test(arguments: ReviewBackend.available) func followsRotationWithoutSkippingOrRepeatingALine(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try f.append([DeskFixture.line("p1"), DeskFixture.line("p2")])
        // The daemon rotates: decisions.jsonl → .1, then writes more to .1 before? No: it
        // renames after its last append, then appends to a new file.
        try FileManager.default.moveItem(atPath: f.logPath, toPath: f.logPath + ".1")
        try f.append([DeskFixture.line("p3")])
        #expect(try f.count("decisions") == 3)
        #expect(try f.desk.pendingCount() == 3)
        #expect(try f.indexer().catchUp() == 0)
    }

    @Test(arguments: ReviewBackend.available) func waitsForTheRestOfAHalfWrittenLine(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        let line = DeskFixture.line("p1")
        FileManager.default.createFile(atPath: f.logPath, contents: Data(line.prefix(40).utf8))
        #expect(try f.indexer().catchUp() == 0)
        let handle = try #require(FileHandle(forWritingAtPath: f.logPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((line.dropFirst(40) + "\n").utf8))
        try handle.close()
        #expect(try f.indexer().catchUp() == 1)
        #expect(try f.desk.pendingCount() == 1)
    }
}

@Suite struct AuditAndPrecisionTests {
    @Test(arguments: ReviewBackend.available) func theAuditLogRefusesUpdatesAndDeletes(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        try AuditLog.append(f.store, moderator: "alice", item: "x", action: "pardon", reason: "r")
        for statement in ["UPDATE audit SET reason = 'changed'", "DELETE FROM audit"] + (backend == .postgres ? ["TRUNCATE audit"] : []) {
            do {
                try f.store.write { db in try db.execute(statement) }
                Issue.record("\(statement) was allowed")
            } catch {
                #expect("\(error)".contains("the audit log is append-only"), "\(error)")
            }
        }
        #expect(try AuditLog.entries(f.store).map(\.reason) == ["r"])
    }

    @Test func wilsonIntervalMatchesTheTextbookValue() throws {
        let interval = try #require(WilsonInterval(successes: 8, trials: 10))
        #expect(abs(interval.lower - 0.490) < 0.001)
        #expect(abs(interval.upper - 0.943) < 0.001)
        #expect(WilsonInterval(successes: 0, trials: 0) == nil)
    }
}

@Suite struct AccountTests {
    @Test(arguments: ReviewBackend.available) func loginIsThrottledAfterRepeatedFailures(_ backend: ReviewBackend) async throws {
        let f = try DeskFixture(backend)
        var accounts = Accounts(store: f.store)
        accounts.bcryptCost = 4
        try accounts.add(name: "alice", role: .moderator, password: "correct horse battery")
        for _ in 0..<accounts.maxFailures {
            #expect(try await accounts.login(name: "alice", password: "wrong password!", client: "10.0.0.1") == .wrong)
        }
        guard case .throttled = try await accounts.login(name: "alice", password: "correct horse battery", client: "10.0.0.2") else {
            Issue.record("the right password must be refused while throttled"); return
        }
        let later = Date().addingTimeInterval(accounts.throttleWindow + 1)
        guard case .success(let token, _) = try await accounts.login(name: "alice", password: "correct horse battery", client: "10.0.0.2", now: later) else {
            Issue.record("after the window the right password works"); return
        }
        #expect(try await accounts.session(token: token, now: later) != nil)
        #expect(try await accounts.session(token: token, now: later.addingTimeInterval(accounts.idleTimeout + 1)) == nil, "an idle session expires")
    }

    @Test(arguments: ReviewBackend.available) func passwordsAreStoredOnlyAsBcryptHashes(_ backend: ReviewBackend) throws {
        let f = try DeskFixture(backend)
        var accounts = Accounts(store: f.store)
        accounts.bcryptCost = 4
        try accounts.add(name: "bob", role: .admin, password: "a long enough password")
        let hash: String? = try f.store.read { db in try db.value("SELECT hash FROM users WHERE name = 'bob'") }
        #expect(hash?.hasPrefix("$2") == true)
        #expect(hash?.contains("long enough") == false)
    }
}
