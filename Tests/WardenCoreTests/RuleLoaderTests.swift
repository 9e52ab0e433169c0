import Testing
@testable import WardenCore

@Suite("Rule loading and its error locations")
struct RuleLoaderTests {
    static let header = """
        guideline: spam
        title: No spam
        text: No adverts.
        url: https://example.org/g#spam

        """

    @Test func loadsTheFixtureRules() throws {
        let ruleSet = try RuleLoader.load(directory: Repository.fixtureRules, runExamples: false)
        #expect(ruleSet.guidelines.map(\.id).sorted() == ["profanity", "spam"])
        #expect(ruleSet.rule(id: "profanity.strong")?.action == .delete)
        #expect(ruleSet.escalation.escalation(forStrikes: 4) == .holdAuthor)
        #expect(ruleSet.escalation.escalation(forStrikes: 5) == .blockAuthor)
        #expect(ruleSet.escalation.escalation(forStrikes: 2) == nil)
        #expect(ruleSet.digest.hasPrefix("sha256:") && ruleSet.digest.count == 71)
    }

    @Test func unknownKeyWithDidYouMean() throws {
        let rules = try TemporaryRules(["spam.yaml": Self.header + """
            rules:
              - id: spam.a
                pattern: ['x']
                action: hide
            """])
        defer { rules.remove() }
        let found = rules.diagnostics()
        let unknown = try #require(found.first { $0.message.contains("unknown key \"pattern\"") })
        #expect(unknown.message.contains("did you mean \"patterns\"?"))
        #expect(unknown.file == "spam.yaml" && unknown.line == 7 && unknown.column == 5)
    }

    @Test func unknownActionAndDuplicateIDs() throws {
        let rules = try TemporaryRules(["spam.yaml": Self.header + """
            rules:
              - id: spam.a
                words: [free money]
                action: delet
              - id: spam.a
                words: [win]
                action: hold_author
            """])
        defer { rules.remove() }
        let found = rules.diagnostics()
        #expect(found.contains { $0.message.contains("unknown action \"delet\"") && $0.message.contains("did you mean \"delete\"") && $0.line == 8 && $0.column == 13 })
        #expect(found.contains { $0.message.contains("duplicate rule id \"spam.a\"") && $0.line == 9 })
        #expect(found.contains { $0.message.contains("escalation.yaml") && $0.line == 11 })
    }

    @Test("a pattern error points at the exact character in the file")
    func patternErrorColumn() throws {
        let rules = try TemporaryRules(["spam.yaml": Self.header + """
            rules:
              - id: spam.a
                patterns: ['ok', 'bad(group']
                action: hide
            """])
        defer { rules.remove() }
        let error = try #require(rules.diagnostics().first { $0.message.contains("pattern does not compile") })
        // Line 7 is `    patterns: ['ok', 'bad(group']`: the quote opens at column 22, and PCRE2
        // blames the end of the pattern (the missing parenthesis), column 32.
        #expect(error.line == 7)
        #expect(error.column == 32)
    }

    @Test func missingWordListAndUnknownDetector() throws {
        let rules = try TemporaryRules(["spam.yaml": Self.header + """
            rules:
              - id: spam.a
                words: wordlists/nope.txt
                detect: [emial]
                action: hide
            """])
        defer { rules.remove() }
        let found = rules.diagnostics()
        #expect(found.contains { $0.message.contains("word list \"wordlists/nope.txt\" not found") && $0.line == 7 && $0.column == 12 })
        #expect(found.contains { $0.message.contains("unknown detector \"emial\"") && $0.message.contains("did you mean \"email\"") && $0.line == 8 && $0.column == 14 })
    }

    @Test func unknownTemplatePlaceholderIsLocated() throws {
        let rules = try TemporaryRules(["spam.yaml": Self.header + """
            rules:
              - id: spam.a
                words: [win]
                action: hide
                message: |
                  Hi {{author.name}},
                  see {{guidline.url}}
            """])
        defer { rules.remove() }
        let error = try #require(rules.diagnostics().first { $0.message.contains("unknown placeholder") })
        #expect(error.message.contains("{{guidline.url}}") && error.message.contains("did you mean {{guideline.url}}"))
        #expect(error.line == 11 && error.column == 11)
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let rules = try TemporaryRules([
            "spam.yaml": Self.header + "rules:\n  - id: spam.a\n    words: [x]\n    action: nuke\n    colour: red\n",
            "other.yaml": "guideline: other\ntitle: T\ntext: t\nrules:\n  - id: o.a\n    patterns: ['(']\n    action: hide\n",
        ])
        defer { rules.remove() }
        let files = Set(rules.diagnostics().map(\.file))
        #expect(files == ["spam.yaml", "other.yaml"])
        #expect(rules.diagnostics().count >= 3)
    }

    @Test func yamlSyntaxErrorsAreLocated() throws {
        let rules = try TemporaryRules(["spam.yaml": "guideline: spam\ntitle: [unclosed\n"])
        defer { rules.remove() }
        let error = try #require(rules.diagnostics().first)
        #expect(error.message.contains("YAML syntax error"))
        #expect(error.file == "spam.yaml" && error.line >= 2)
    }

    @Test func failingExamplesMakeTheDirectoryInvalid() throws {
        let rules = try TemporaryRules(["spam.yaml": Self.header + """
            rules:
              - id: spam.a
                words: [lottery]
                action: hide
                examples:
                  match: ["you won the lottery", "nothing here"]
            """])
        defer { rules.remove() }
        let found = rules.diagnostics()
        #expect(found.count == 1)
        #expect(found.first?.message.contains("should match \"nothing here\"") == true)
        #expect(found.first?.line == 10)
        #expect((try? rules.load(runExamples: false)) != nil)
    }

    @Test func escalationReferencesKnownGuidelines() throws {
        let rules = try TemporaryRules([
            "spam.yaml": Self.header + "rules:\n  - id: spam.a\n    words: [x]\n    action: hide\n",
            "escalation.yaml": "window: 30d\ncount: [spma]\nthresholds:\n  - {strikes: 3, action: delete}\n",
        ])
        defer { rules.remove() }
        let found = rules.diagnostics()
        #expect(found.contains { $0.message.contains("unknown guideline \"spma\"") && $0.message.contains("did you mean \"spam\"") })
        #expect(found.contains { $0.message.contains("hold_author or block_author") && $0.line == 4 })
    }

    @Test(arguments: ["(a+)+$", "(\\w+\\s?)*x", "(?:ab*)+", "(?:x+y){2,}"])
    func nestedQuantifiersAreWarnedAbout(pattern: String) {
        #expect(ReDoSCheck.isSuspicious(pattern))
    }

    @Test(arguments: ["\\bcheck out my channel\\b", "(?:www\\.)?bit\\.ly/\\w+", "[a-z]+(?:ing)?", "(?:(?:my|your)\\s+){0,4}funds"])
    func linearPatternsAreNotWarnedAbout(pattern: String) {
        #expect(!ReDoSCheck.isSuspicious(pattern))
    }
}
