import Foundation
import Logging
import Synchronization
import Testing
import WardenCore
@testable import WardenConsole
@testable import WardenDaemon

/// The review stores the console can run on. PostgreSQL only when `WARDEN_TEST_POSTGRES`
/// names a server (`scripts/pg-cluster.sh run` starts a private one and sets it), as for the
/// daemon's storage tests (WardenDaemonTests/StorageTests.swift).
enum ReviewBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var serverURL: String? {
        ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var available: [ReviewBackend] { serverURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// Creates `warden_console_test_…` on the test server; the cluster is thrown away at the end.
    static func freshDatabase() throws -> PostgresSettings {
        guard let url = serverURL else { throw ReviewStoreError("WARDEN_TEST_POSTGRES is not set") }
        let admin = try PostgresSettings.parse(url).get()
        let name = "warden_console_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let sessions = try PostgresSessions(settings: admin, logger: Logger(label: "test"))
        defer { sessions.close() }
        try sessions.withConnection { try $0.run("CREATE DATABASE \(unescaped: name)", logger: Logger(label: "test")) }
        var settings = admin
        settings.database = name
        return settings
    }
}

/// Post ids whose strikes the desk asked the ledger to take back.
final class TakeBackRecorder: Sendable {
    let postIDs = Mutex<[String]>([])
}

/// One host's console over a temporary spool with a decisions.jsonl written by hand, indexed
/// into a review store: a fresh one of `backend`, or, with `sharing:`, the same PostgreSQL
/// database as another fixture (another host of the group: its own spool, log and instance).
final class DeskFixture: Sendable {
    let root: String
    let instance: String
    let store: any ReviewStore
    let desk: ReviewDesk
    /// The PostgreSQL database, for another host to share; nil for SQLite.
    let settings: PostgresSettings?
    let recorder = TakeBackRecorder()
    var takenBack: [String] { recorder.postIDs.withLock { $0 } }

    init(_ backend: ReviewBackend, instance: String = "host-a", sharing other: DeskFixture? = nil) throws {
        root = NSTemporaryDirectory() + "warden-console-tests-\(UUID().uuidString)"
        self.instance = instance
        try FileManager.default.createDirectory(atPath: root + "/outbox", withIntermediateDirectories: true)
        switch backend {
        case .sqlite:
            settings = nil
            store = try SQLiteReviewStore.open(stateRoot: root)
        case .postgres:
            let settings = try other?.settings ?? ReviewBackend.freshDatabase()
            self.settings = settings
            store = try PostgresReviewStore(settings: settings, logger: Logger(label: "test"))
        }
        let templates = try ReviewTemplates.load(rulesDirectory: root + "/no-rules")
        let recorder = recorder
        desk = ReviewDesk(store: store, outbox: OutboxWriter(outbox: root + "/outbox"), templates: templates,
                          guidelineTitles: ["profanity": "No profanity", "spam": "No spam"],
                          takeBack: { postID, _ in recorder.postIDs.withLock { $0.append(postID) } })
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    var logPath: String { root + "/decisions.jsonl" }

    func indexer() -> LogIndexer { LogIndexer(logPath: logPath, instance: instance, store: store) }

    static func line(_ id: String, action: String = "hold", guidelines: [String] = ["profanity"], rules: [String] = ["profanity.mild"],
                     author: String = "u-1", at: String = "2026-11-22T10:00:00Z", text: String = "what the heck",
                     appealOf: String? = nil, ruleset: String = "sha256:x") -> String {
        let list = { (values: [String]) in "[" + values.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
        let type = appealOf.map { "\"type\":\"appeal\",\"appeal_of\":\"\($0)\"," } ?? ""
        return "{\(type)\"post_id\":\"\(id)\",\"action\":\"\(action)\",\"guidelines\":\(list(guidelines)),\"rules\":\(list(rules)),"
            + "\"matches\":[{\"rule\":\"\(rules.first ?? "")\",\"start\":9,\"end\":13,\"text\":\"heck\"}],\"message\":\"msg\","
            + "\"author\":{\"id\":\"\(author)\",\"name\":\"Gemma\",\"strikes\":1,\"escalation\":null},\"decided_at\":\"\(at)\","
            + "\"ruleset\":\"\(ruleset)\",\"text\":\"\(text)\"}"
    }

    func append(_ lines: [String]) throws {
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let handle = try #require(FileHandle(forWritingAtPath: logPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
        try handle.close()
        try indexer().catchUp()
    }

    func actionFile(_ postID: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: root + "/outbox/\(postID).json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func count(_ table: String) throws -> Int {
        try store.read { db in try db.value("SELECT COUNT(*) FROM \(table)") ?? 0 }
    }
}
