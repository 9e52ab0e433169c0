import Foundation
import Testing
@testable import WardenCore

/// Shipped rules with local overrides, as RuleLoader.load sees a SHIPPED:LOCAL path.
@Suite struct RuleOverlayTests {
    let shippedFiles = [
        "spam.yaml": """
            guideline: spam
            title: No spam
            text: No adverts.
            rules:
              - id: spam.channel
                patterns: ['\\bmy channel\\b']
                action: hide
                examples: { match: ["see my channel"], no_match: ["the channel"] }
              - id: spam.shop
                phrases: ["visit my shop"]
                action: hold
            """,
        "escalation.yaml": "window: 30d\ncount: [spam]\nthresholds:\n  - { strikes: 3, action: hold_author }\n",
    ]

    @Test func aPathWithoutAColonIsNoOverlay() {
        #expect(RuleOverlay(path: "./rules") == nil)
        #expect(RuleOverlay(path: "./rules:") == nil)
        #expect(RuleOverlay(path: "/usr/share/warden/rules:/etc/warden/rules.d")?.local == "/etc/warden/rules.d")
    }

    @Test func localFilesSwitchReplaceAndAddAndTheDigestFollowsThem() throws {
        let shipped = try TemporaryRules(shippedFiles)
        defer { shipped.remove() }
        let local = try TemporaryRules([
            "10-spam.yaml": """
                guideline: spam
                rules:
                  - id: spam.channel
                    mode: shadow
                  - id: spam.shop
                    phrases: ["visit my shop", "buy at my shop"]
                    action: delete
                  - id: spam.local
                    words: [lottery]
                    action: hold
                """,
        ])
        defer { local.remove() }
        let path = shipped.path + ":" + local.path
        let ruleSet = try RuleLoader.load(directory: path)
        #expect(ruleSet.ruleIDs == ["spam.channel", "spam.shop", "spam.local"])
        #expect(ruleSet.rule(id: "spam.channel")?.mode == .shadow)
        #expect(ruleSet.rule(id: "spam.shop")?.action == .delete)
        #expect(ruleSet.rule(id: "spam.shop")?.location.file == local.path + "/10-spam.yaml")
        #expect(ruleSet.rule(id: "spam.channel")?.location.file == shipped.path + "/spam.yaml")
        #expect(ruleSet.directory == path)

        let alone = try RuleLoader.load(directory: shipped.path)
        #expect(alone.digest != ruleSet.digest, "a local change is a new ruleset")
        try "guideline: spam\nrules:\n  - id: spam.shop\n    mode: \"off\"\n".write(toFile: local.path + "/10-spam.yaml", atomically: true, encoding: .utf8)
        let switchedOff = try RuleLoader.load(directory: path)
        #expect(switchedOff.ruleIDs == ["spam.channel"])
        #expect(switchedOff.digest != ruleSet.digest)
    }

    @Test func aMissingLocalDirectoryMeansTheShippedRules() throws {
        let shipped = try TemporaryRules(shippedFiles)
        defer { shipped.remove() }
        let ruleSet = try RuleLoader.load(directory: shipped.path + ":/nonexistent/rules.d")
        #expect(ruleSet.ruleIDs == ["spam.channel", "spam.shop"])
    }

    @Test func localMistakesAreReportedInTheLocalFile() throws {
        let shipped = try TemporaryRules(shippedFiles)
        defer { shipped.remove() }
        let local = try TemporaryRules([
            "10-spam.yaml": "guideline: spam\ntitel: x\nrules:\n  - id: spam.chanel\n    mode: shadow\n  - id: spam.shop\n    mode: loud\n",
            "20-other.yaml": "rules: []\n",
        ])
        defer { local.remove() }
        var messages: [String] = []
        do { _ = try RuleLoader.load(directory: shipped.path + ":" + local.path) } catch { messages = error.diagnostics.map(\.description) }
        let file = local.path + "/10-spam.yaml"
        #expect(messages.contains("\(file):2:1: error: \"titel\" cannot be changed alone for the shipped guideline \"spam\": a local file for it has only guideline and rules, or is a whole guideline file with title and text"), "\(messages)")
        #expect(messages.contains("\(file):4:9: error: no rule \"spam.chanel\" to switch; did you mean \"spam.channel\"?"))
        #expect(messages.contains("\(file):7:11: error: unknown mode \"loud\"; a local switch sets enforce, shadow or off"))
        #expect(messages.contains { $0.hasPrefix(local.path + "/20-other.yaml:1:1: error: a local rules file must name its guideline") })
    }

    @Test func localExamplesMustHold() throws {
        let shipped = try TemporaryRules(shippedFiles)
        defer { shipped.remove() }
        let local = try TemporaryRules([
            "10-spam.yaml": "guideline: spam\nrules:\n  - id: spam.channel\n    patterns: ['\\\\bvideo\\\\b']\n    action: hide\n    examples: { match: [\"my channel\"] }\n",
        ])
        defer { local.remove() }
        #expect(throws: RuleLoadError.self) { try RuleLoader.load(directory: shipped.path + ":" + local.path, runExamples: true) }
        #expect(try RuleLoader.load(directory: shipped.path + ":" + local.path, runExamples: false).rule(id: "spam.channel") != nil)
    }

    /// The shipped guidelines' score conditions keep their models under an overlay: the
    /// examples of the effective rules are judged with them (the release binary trapped here).
    @Test func theShippedRulesWithTheirModelsLoadUnderAnOverlay() throws {
        let local = try TemporaryRules([
            "50-spam.yaml": "guideline: spam\nrules:\n  - id: spam.maybe-promotion\n    mode: shadow\n",
        ])
        defer { local.remove() }
        let shipped = Repository.root + "/rules"
        let plain = try RuleLoader.load(directory: shipped, runExamples: false)
        let overlaid = try RuleLoader.load(directory: shipped + ":" + local.path, runExamples: true)
        #expect(!plain.models.isEmpty)
        #expect(overlaid.models.count == plain.models.count)
        #expect(overlaid.rules.count == plain.rules.count)
    }
}
