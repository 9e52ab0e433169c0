import Foundation
import Testing
@testable import WardenCore

/// The digest names the bytes the rules were built from. It used to be computed from a
/// second read of the directory, so a save landing between the parse and that read gave a
/// rule set whose digest named the new bytes: the next reload then said "unchanged" and
/// never applied the edit.
@Suite struct RulesDigestTests {
    static let before = """
        guideline: spam
        title: No spam
        text: No adverts.
        url: https://example.org/g#spam
        rules:
          - id: spam.offer
            phrases: ["special offer"]
            action: hide

        """
    static let after = before.replacingOccurrences(of: "action: hide", with: "action: delete")

    @Test func aSaveBetweenParseAndDigestDoesNotHideTheEdit() throws {
        let rules = try TemporaryRules(["spam.yaml": Self.before])
        defer { rules.remove() }
        // The moderator's editor saves the new version right after the loader read the file.
        let loaded = try RuleLoader.load(directory: rules.path, runExamples: false) { path in
            let data = FileManager.default.contents(atPath: path)
            if path.hasSuffix("spam.yaml") { try? Self.after.write(toFile: path, atomically: true, encoding: .utf8) }
            return data
        }
        #expect(loaded.rule(id: "spam.offer")?.action == .hide)
        let reloaded = try rules.load(runExamples: false)
        #expect(reloaded.rule(id: "spam.offer")?.action == .delete)
        #expect(reloaded.digest != loaded.digest, "the reload must see a change and apply it")
    }

    @Test func sameBytesSameDigestAndAnyByteChangesIt() throws {
        let rules = try TemporaryRules(["spam.yaml": Self.before])
        defer { rules.remove() }
        let first = try rules.load(runExamples: false).digest
        #expect(try rules.load(runExamples: false).digest == first)
        try (Self.before + "# a comment\n").write(toFile: rules.path + "/spam.yaml", atomically: true, encoding: .utf8)
        #expect(try rules.load(runExamples: false).digest != first)
    }
}
