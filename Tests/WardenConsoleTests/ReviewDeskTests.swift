import Foundation
import GRDB
import Synchronization
import Testing
import WardenCore
@testable import WardenConsole

/// A temporary spool with a decisions.jsonl written by hand, indexed into a review database.
/// Post ids whose strikes the desk asked the ledger to take back.
final class TakeBackRecorder: Sendable {
    let postIDs = Mutex<[String]>([])
}

final class DeskFixture: Sendable {
    let root: String
    let database: ReviewDatabase
    let desk: ReviewDesk
    let recorder = TakeBackRecorder()
    var takenBack: [String] { recorder.postIDs.withLock { $0 } }

    init() throws {
        root = NSTemporaryDirectory() + "warden-console-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/outbox", withIntermediateDirectories: true)
        database = try ReviewDatabase.open(stateRoot: root)
        let templates = try ReviewTemplates.load(rulesDirectory: root + "/no-rules")
        let recorder = recorder
        desk = ReviewDesk(database: database, outbox: OutboxWriter(outbox: root + "/outbox"), templates: templates,
                          guidelineTitles: ["profanity": "No profanity", "spam": "No spam"],
                          takeBack: { postID, _ in recorder.postIDs.withLock { $0.append(postID) } })
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var logPath: String { root + "/decisions.jsonl" }

    static func line(_ id: String, action: String = "hold", guidelines: [String] = ["profanity"], rules: [String] = ["profanity.mild"],
                     author: String = "u-1", at: String = "2026-11-22T10:00:00Z", text: String = "what the heck",
                     appealOf: String? = nil) -> String {
        let list = { (values: [String]) in "[" + values.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
        let type = appealOf.map { "\"type\":\"appeal\",\"appeal_of\":\"\($0)\"," } ?? ""
        return "{\(type)\"post_id\":\"\(id)\",\"action\":\"\(action)\",\"guidelines\":\(list(guidelines)),\"rules\":\(list(rules)),"
            + "\"matches\":[{\"rule\":\"\(rules.first ?? "")\",\"start\":9,\"end\":13,\"text\":\"heck\"}],\"message\":\"msg\","
            + "\"author\":{\"id\":\"\(author)\",\"name\":\"Gemma\",\"strikes\":1,\"escalation\":null},\"decided_at\":\"\(at)\","
            + "\"ruleset\":\"sha256:x\",\"text\":\"\(text)\"}"
    }

    func append(_ lines: [String]) throws {
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let handle = try #require(FileHandle(forWritingAtPath: logPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
        try handle.close()
        try LogIndexer(logPath: logPath, database: database).catchUp()
    }

    func actionFile(_ postID: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: root + "/outbox/\(postID).json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func count(_ table: String) throws -> Int {
        try database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }
}

@Suite struct QueueTests {
    @Test func appealsComeFirstThenTheOldestHeldPost() throws {
        let f = try DeskFixture()
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

    @Test func filtersByGuidelineRuleAndAuthor() throws {
        let f = try DeskFixture()
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

    @Test func anEditThatIsNoLongerHeldLeavesTheQueue() throws {
        let f = try DeskFixture()
        try f.append([DeskFixture.line("p1")])
        try f.append([DeskFixture.line("p1", action: "allow", guidelines: [], rules: [])])
        #expect(try f.desk.pendingCount() == 0)
    }
}

@Suite struct ClaimTests {
    @Test func openingAnItemClaimsItForOneModerator() throws {
        let f = try DeskFixture()
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

    @Test func aSubmitDuringAnotherModeratorsClaimIsRefused() throws {
        let f = try DeskFixture()
        try f.append([DeskFixture.line("p1")])
        _ = try f.desk.claim("p1", moderator: "alice")
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "bob", verdict: .released, reason: "fine"))
        guard case .refused(let sentence) = outcome else { Issue.record("expected a refusal"); return }
        #expect(sentence.contains("alice is reviewing this item"))
        #expect(!FileManager.default.fileExists(atPath: f.root + "/outbox/p1.json"))
    }

    @Test func theLoserOfARaceIsToldWhoActedAndNothingIsWrittenTwice() throws {
        let f = try DeskFixture()
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

    @Test func concurrentSubmitsWriteExactlyOnce() async throws {
        let f = try DeskFixture()
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

    @Test func aStaleVersionIsRefusedAfterTheDaemonReJudgedThePost() throws {
        let f = try DeskFixture()
        try f.append([DeskFixture.line("p1")])
        try f.append([DeskFixture.line("p1", text: "edited text")])
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "alice", verdict: .released, reason: "ok"))
        guard case .refused(let sentence) = outcome else { Issue.record("expected a refusal"); return }
        #expect(sentence.contains("changed since you opened it"))
        guard case .written = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 2, moderator: "alice", verdict: .released, reason: "ok")) else {
            Issue.record("the current version should be accepted"); return
        }
    }

    @Test func aReasonIsRequired() throws {
        let f = try DeskFixture()
        try f.append([DeskFixture.line("p1")])
        let outcome = try f.desk.submit(ReviewSubmission(itemID: "p1", version: 1, moderator: "alice", verdict: .released, reason: "  "))
        #expect(outcome == .refused("A reason is required: pick one or write one. Nothing was written."))
    }
}

@Suite struct VerdictTests {
    @Test func removalCarriesTheEditedMessageAndLabelsTheGuideline() throws {
        let f = try DeskFixture()
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

    @Test func anOverturnedAppealRestoresThePostAndTakesBackItsStrike() throws {
        let f = try DeskFixture()
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

    @Test func anUpheldAppealKeepsTheRemovalAndTellsThePoster() throws {
        let f = try DeskFixture()
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

    @Test func aPastWrongRemovalIsRestoredOnce() throws {
        let f = try DeskFixture()
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

    @Test func aMissedPostNeedsAGuidelineAndIsLabelledWithIt() throws {
        let f = try DeskFixture()
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
    @Test func followsRotationWithoutSkippingOrRepeatingALine() throws {
        let f = try DeskFixture()
        try f.append([DeskFixture.line("p1"), DeskFixture.line("p2")])
        // The daemon rotates: decisions.jsonl → .1, then writes more to .1 before? No: it
        // renames after its last append, then appends to a new file.
        try FileManager.default.moveItem(atPath: f.logPath, toPath: f.logPath + ".1")
        try f.append([DeskFixture.line("p3")])
        #expect(try f.count("decisions") == 3)
        #expect(try f.desk.pendingCount() == 3)
        #expect(try LogIndexer(logPath: f.logPath, database: f.database).catchUp() == 0)
    }

    @Test func waitsForTheRestOfAHalfWrittenLine() throws {
        let f = try DeskFixture()
        let line = DeskFixture.line("p1")
        FileManager.default.createFile(atPath: f.logPath, contents: Data(line.prefix(40).utf8))
        #expect(try LogIndexer(logPath: f.logPath, database: f.database).catchUp() == 0)
        let handle = try #require(FileHandle(forWritingAtPath: f.logPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((line.dropFirst(40) + "\n").utf8))
        try handle.close()
        #expect(try LogIndexer(logPath: f.logPath, database: f.database).catchUp() == 1)
        #expect(try f.desk.pendingCount() == 1)
    }
}

@Suite struct AuditAndPrecisionTests {
    @Test func theAuditLogRefusesUpdatesAndDeletes() throws {
        let f = try DeskFixture()
        try AuditLog.append(f.database, moderator: "alice", item: "x", action: "pardon", reason: "r")
        #expect(throws: (any Error).self) { try f.database.pool.write { db in try db.execute(sql: "UPDATE audit SET reason = 'changed'") } }
        #expect(throws: (any Error).self) { try f.database.pool.write { db in try db.execute(sql: "DELETE FROM audit") } }
        #expect(try AuditLog.entries(f.database).map(\.reason) == ["r"])
    }

    @Test func wilsonIntervalMatchesTheTextbookValue() throws {
        let interval = try #require(WilsonInterval(successes: 8, trials: 10))
        #expect(abs(interval.lower - 0.490) < 0.001)
        #expect(abs(interval.upper - 0.943) < 0.001)
        #expect(WilsonInterval(successes: 0, trials: 0) == nil)
    }
}

@Suite struct AccountTests {
    @Test func loginIsThrottledAfterRepeatedFailures() async throws {
        let f = try DeskFixture()
        var accounts = Accounts(database: f.database)
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

    @Test func passwordsAreStoredOnlyAsBcryptHashes() throws {
        let f = try DeskFixture()
        var accounts = Accounts(database: f.database)
        accounts.bcryptCost = 4
        try accounts.add(name: "bob", role: .admin, password: "a long enough password")
        let hash = try f.database.pool.read { db in try String.fetchOne(db, sql: "SELECT hash FROM users WHERE name = 'bob'") }
        #expect(hash?.hasPrefix("$2") == true)
        #expect(hash?.contains("long enough") == false)
    }
}
