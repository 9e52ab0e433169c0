import Foundation
@testable import WardenCore

/// A throwaway rules directory for one test.
struct TemporaryRules {
    let path: String

    init(_ files: [String: String]) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path + "/wordlists", withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        }
    }

    func load(runExamples: Bool = true) throws -> RuleSet {
        try RuleLoader.load(directory: path, runExamples: runExamples)
    }

    /// The diagnostics of a load that must fail.
    func diagnostics(runExamples: Bool = true) -> [Diagnostic] {
        do {
            _ = try RuleLoader.load(directory: path, runExamples: runExamples)
            return []
        } catch {
            return error.diagnostics
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The repository's own directories, found from this file's location.
enum Repository {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let fixtureRules = root + "/Tests/Fixtures/rules-basic"
}
