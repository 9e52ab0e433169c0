import Foundation
import Testing
@testable import WardenCore

@Suite("Judging with obfuscation, allow-lists, pre-filter and limits")
struct JudgeTests {
    static let fixture: RuleSet = {
        do { return try RuleLoader.load(directory: Repository.fixtureRules, runExamples: false) } catch {
            fatalError("fixture rules do not load: \(error)")
        }
    }()

    func judge(_ text: String, author: String = "u1") -> Decision {
        Judge(ruleSet: Self.fixture).judge(Post(id: "p", authorID: author, authorName: "Sam", text: text))
    }

    @Test(arguments: [
        ("what the f.u.c.k", "f.u.c.k"),
        ("FUUUUCK off", "FUUUUCK"),
        ("sh1t service", "sh1t"),
        ("f u c k this", "f u c k"),
        ("what the f**k", "f**k"),
        ("told me to f*** off", "f***"),
        ("f\u{200B}uck that", "f\u{200B}uck"),
        ("ｆｕｃｋ", "ｆｕｃｋ"),
        ("fцck", nil as String?),
        ("shït happens", "shït"),
        ("you w\u{0430}nker", "w\u{0430}nker"),
        ("👋🏽 fuck 👋🏽", "fuck"),
        ("مرحبا fuck שלום", "fuck"),
    ])
    func obfuscatedSpellingsAreCaughtAndMappedBack(text: String, expected: String?) {
        let decision = judge(text)
        guard let expected else {
            #expect(decision.action == .allow)
            return
        }
        #expect(decision.action == .delete, "\(text)")
        #expect(decision.matches.first?.text == expected, "\(text)")
        let scalars = Array(text.unicodeScalars)
        if let match = decision.matches.first {
            #expect(String(String.UnicodeScalarView(scalars[match.start..<match.end])) == expected)
        }
    }

    @Test(arguments: ["Scunthorpe council", "a classic assassin", "the cocktail menu", "Penistone Road", "Galaxy A55 screen", "Essex and Sussex", "the class of 2024"])
    func innocentWordsAreNotCaught(text: String) {
        #expect(judge(text).action == .allow, "\(text)")
    }

    @Test("an allowed word next to a bad one never lets the bad one through")
    func allowListIsPerMatch() {
        let decision = judge("cocktail cock")
        #expect(decision.action == .delete)
        #expect(decision.matches.map(\.text) == ["cock"])
        #expect(decision.redactedText == "cocktail ****")
    }

    @Test("rules after the pre-filter's first hit still find matches before and after it")
    func prefilterFindsEveryRule() {
        let decision = judge("subscribe to me and check out my channel, shit")
        #expect(decision.rules == ["profanity.strong", "spam.channel"])
        #expect(decision.matches.filter { $0.rule == "spam.channel" }.count == 2)
    }

    @Test(
        "caseless patterns on the original text match the Kelvin sign and the long s as PCRE2 does, gate or no gate",
        arguments: ["what a \u{017F}cam", "a \u{212A}ick back, mate", "SCAM!"])
    func nonASCIICaseVariantsPassTheGate(text: String) throws {
        let rules = try TemporaryRules([
            "spam.yaml": "guideline: spam\ntitle: No spam\ntext: t\nrules:\n  - id: spam.scam\n    normalize: false\n"
                + "    patterns: ['\\bscam\\b', '\\bkick\\s+back\\b']\n    action: hold\n"
        ])
        defer { rules.remove() }
        let decision = Judge(ruleSet: try rules.load(runExamples: false)).judge(Post(id: "p", authorID: "u", text: text))
        #expect(decision.action == .hold)
    }

    @Test(
        "a pattern that needs \\d runs on digits of any script, and not on a post without digits",
        arguments: [("order no 123456", true), ("order no \u{0663}\u{0664}\u{0665}\u{0666}\u{0667}\u{0668}", true), ("order no idea", false)])
    func digitGate(text: String, matches: Bool) throws {
        let rules = try TemporaryRules([
            "data.yaml": "guideline: data\ntitle: Data\ntext: t\nrules:\n  - id: data.ref\n    normalize: false\n"
                + "    patterns: ['\\border\\s+no\\s+\\d{6}']\n    action: hide\n"
        ])
        defer { rules.remove() }
        let decision = Judge(ruleSet: try rules.load(runExamples: false)).judge(Post(id: "p", authorID: "u", text: text))
        #expect((decision.action == .hide) == matches)
    }

    @Test func cleanPostsAreAllowedWithNoMessage() {
        let decision = judge("Still waiting for my refund, third time asking. Please call me back.")
        #expect(decision.action == .allow)
        #expect(decision.message == nil && decision.redactedText == nil && decision.matches.isEmpty)
    }

    @Test("a rule that hits the PCRE2 match limit holds the post and says why")
    func limitHitHoldsThePost() throws {
        let rules = try TemporaryRules(["spam.yaml": """
            guideline: spam
            title: No spam
            text: t
            rules:
              - id: spam.evil
                patterns: ['(\\w+\\s?)+$']
                normalize: false
                action: flag
              - id: spam.fine
                words: [lottery]
                action: hide
            """])
        defer { rules.remove() }
        let ruleSet = try rules.load(runExamples: false)
        #expect(ruleSet.warnings.contains { $0.message.contains("backtrack") })
        let judge = Judge(ruleSet: ruleSet, limits: MatchLimits(matchLimit: 20_000))
        let attack = String(repeating: "a", count: 3_000) + "!"
        let decision = judge.judge(Post(id: "p", authorID: "u", text: attack))
        #expect(decision.action == .hold)
        #expect(decision.limitReasons.first?.contains("spam.evil") == true)
        // Other posts are unaffected.
        #expect(judge.judge(Post(id: "q", authorID: "u", text: "win the lottery now!")).action == .hide)
    }

    @Test func conditionsAndHistory() throws {
        let history = InMemoryHistory()
        let judge = Judge(ruleSet: Self.fixture)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let post = Post(id: "p", authorID: "spammer", text: "Buy cheap watches")
        let first = judge.judge(post, history: history, now: now)
        #expect(first.action == .allow)
        history.record(author: "spammer", textDigest: first.textDigest, at: now)
        let again = Post(id: "q", authorID: "spammer", text: "BUY  cheap watches")
        #expect(judge.judge(again, history: history, now: now + 60).rules == ["spam.repeat"])
        #expect(judge.judge(again, history: history, now: now + 7_200).action == .allow)
        #expect(judge.judge(Post(id: "r", authorID: "other", text: "Buy cheap watches"), history: history, now: now + 60).action == .allow)
        let links = judge.judge(Post(id: "l", authorID: "x", text: "see http://a.example/x www.b.example and bit.ly/abc"))
        #expect(links.rules == ["spam.links"] && links.action == .hold)
    }

    @Test func everyDecisionRecordsTheRuleset() {
        #expect(judge("anything").ruleset == Self.fixture.digest)
    }
}
