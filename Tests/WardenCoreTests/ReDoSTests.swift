import Foundation
import Testing

@testable import WardenCore

/// Moderator rules with patterns that backtrack catastrophically, against posts built to
/// trigger it, at the longest text a post may have. The PCRE2 limits (`MatchLimits`
/// defaults, as the daemon runs) must stop every such match, the post must be held for a
/// person with the rule named, and the judge must go on judging the next post normally.
/// How long that takes is measured in Benchmarks/ (scripts/bench-redos.py), not asserted here.
@Suite("Catastrophic patterns are bounded, held and warned about")
struct ReDoSTests {
    struct Attack: CustomTestStringConvertible, Sendable {
        var pattern: String
        /// Whether the rule matches the normalised text (the default) or the text as written.
        var normalize: Bool
        var text: String
        var testDescription: String { "\(pattern) (normalize: \(normalize))" }
    }

    static let maxText = PostLimits().maxTextScalars

    /// A run of `unit` filling the longest allowed post, then `tail`.
    static func run(_ unit: String, then tail: String) -> String {
        String(repeating: unit, count: (maxText - tail.count) / unit.count) + tail
    }

    /// Each attack defeats PCRE2's shortcuts: the literal a pattern requires ("b", "x") is
    /// present, so the "required character" pre-check cannot reject the post unmatched.
    /// Runs of one letter are collapsed by the normaliser, so those attacks use the rule's
    /// `normalize: false`; `(\w+\s?)*$` survives normalisation with two-letter words.
    static let attacks: [Attack] = [
        Attack(pattern: #"(a+)+$"#, normalize: false, text: run("a", then: "!")),
        Attack(pattern: #"(\w+\s?)*$"#, normalize: false, text: run("a", then: "!")),
        Attack(pattern: #"(\w+\s?)*$"#, normalize: true, text: run("ab ", then: "ab!")),
        Attack(pattern: #"(?:a|a)*b"#, normalize: false, text: run("a", then: "!b")),
        Attack(pattern: #"(\w|\d)+x"#, normalize: false, text: run("1", then: "!x")),
        Attack(pattern: #"(\w|\d)+x"#, normalize: true, text: run("12", then: "!x")),
    ]

    static func rules(_ attack: Attack) throws -> TemporaryRules {
        try TemporaryRules([
            "abuse.yaml": """
            guideline: abuse
            title: No abuse
            text: Be kind.
            rules:
              - id: abuse.evil
                patterns: ['\(attack.pattern)']
                normalize: \(attack.normalize)
                action: flag
            """,
            "spam.yaml": """
            guideline: spam
            title: No spam
            text: No adverts.
            rules:
              - id: spam.lottery
                words: [lottery]
                action: hide
            """,
        ])
    }

    @Test(arguments: attacks)
    func theAttackPostIsHeldNamingTheRule(attack: Attack) throws {
        #expect(attack.text.unicodeScalars.count <= Self.maxText)
        #expect((try? PostParser.parse(#"{"id":"a","author":{"id":"u"},"text":"\#(attack.text)"}"#)) != nil, "the attack is a valid post")
        let rules = try Self.rules(attack)
        defer { rules.remove() }
        let ruleSet = try rules.load(runExamples: false)
        let judge = Judge(ruleSet: ruleSet)
        let now = Date(timeIntervalSince1970: 1_800_000_000)

        let decision = judge.judge(Post(id: "attack", authorID: "mallory", text: attack.text), now: now)
        #expect(decision.action == .hold)
        #expect(decision.limitReasons.count == 1)
        #expect(decision.limitReasons.first?.contains("abuse.evil") == true, "\(decision.limitReasons)")
        #expect(decision.limitReasons.first?.contains("limit") == true, "\(decision.limitReasons)")
        // Held because PCRE2 gave up, not because the rule matched: nothing to mask or strike.
        #expect(decision.rules.isEmpty && decision.strikeGuidelines.isEmpty)

        // The same judge (same match data, same JIT stack) goes straight on with normal posts
        // and decides exactly as a judge that never saw the attack. (Not necessarily without
        // a limit: `(\w+\s?)*$` gives up on "Lovely weather for the match, see you" too,
        // because the comma makes it try every split of the words before it.)
        let next = [
            Post(id: "next1", authorID: "u1", text: "win the lottery today"),
            Post(id: "next2", authorID: "u2", text: "Lovely weather for the match, see you there"),
            Post(id: "next3", authorID: "u3", text: "aaaa 1111 x b"),
        ]
        for post in next {
            let afterAttack = judge.judge(post, now: now)
            #expect(afterAttack == Judge(ruleSet: ruleSet).judge(post, now: now))
        }
        #expect(judge.judge(next[0], now: now).rules.contains("spam.lottery"))
    }

    @Test("each attack, matched on its own, stops at the default match limit rather than finishing", arguments: attacks)
    func theMatchItselfIsBoundedByTheLimits(attack: Attack) throws {
        let pattern = try CompiledPattern(attack.pattern)
        var subject = attack.text
        if attack.normalize {
            var normalizer = Normalizer()
            subject = String(decoding: normalizer.normalize(attack.text).bytes, as: UTF8.self)
        }
        let scratch = MatchScratch()
        let outcome = subject.utf8.withContiguousStorageIfAvailable { scratch.firstMatch(pattern, in: $0) }
        guard case .limitExceeded(let why)? = outcome else {
            Issue.record("expected the match limit to stop \(attack.pattern), got \(String(describing: outcome))")
            return
        }
        #expect(why.contains("limit"))
    }

    @Test("the loader warns about every catastrophic pattern, naming the rule", arguments: attacks.map(\.pattern))
    func loaderWarnsAboutTheAttackPatterns(pattern: String) throws {
        let rules = try Self.rules(Attack(pattern: pattern, normalize: false, text: ""))
        defer { rules.remove() }
        let ruleSet = try rules.load(runExamples: false)
        let warning = ruleSet.warnings.first { $0.message.contains("backtrack") }
        #expect(warning?.severity == .warning)
        #expect(warning?.message.contains("abuse.evil") == true)
        #expect(warning?.file == "abuse.yaml" && warning?.line == 6)
    }

    @Test(arguments: [
        (#"(a+)+$"#, ReDoSCheck.Shape.nestedQuantifier),
        (#"(\w+\s?)*$"#, .nestedQuantifier),
        (#"(?:ab*)+"#, .nestedQuantifier),
        (#"(x{2,}y)*"#, .nestedQuantifier),
        (#"(?:a|a)*b"#, .overlappingAlternation),
        (#"(\w|\d)+x"#, .overlappingAlternation),
        (#"(?:a|ab)*c"#, .overlappingAlternation),
        (#"(?:\d|[0-9])+"#, .overlappingAlternation),
        (#"(?:[a-z]|x)+y"#, .overlappingAlternation),
        (#"(?:.|\n)*end"#, .overlappingAlternation),
        (#"(?<word>\w|_)+"#, .overlappingAlternation),
        (#"(?:Foo|foo){2,}"#, .overlappingAlternation),
        (#"(?:\s|\t)*$"#, .overlappingAlternation),
    ])
    func knownBadShapesAreNamed(pattern: String, shape: ReDoSCheck.Shape) {
        #expect(ReDoSCheck.shape(of: pattern) == shape)
    }

    @Test(arguments: [
        #"\bcheck (?:out )?my (?:channel|video)"#,
        #"(?:cat|dog)+"#,
        #"(?:ab|ac)*d"#,
        #"(?:www\.)?bit\.ly/\w+"#,
        #"(?:a|b)?c"#,
        #"(\w|\s)+"#,
        #"(?:\d|x)+"#,
        #"(?:[a-m]|[n-z])+"#,
        #"[(|)]+"#,
        #"(?=a|a)\w+"#,
        #"(?:a|a)*+b"#,
        #"(a+)++"#,
        #"(?:a|a){0,4}b"#,
        #"(?:(?:my|your)\s+){0,4}funds"#,
        #"(?:yes|no|maybe)"#,
    ])
    func ordinaryAndSafePatternsAreNotWarnedAbout(pattern: String) {
        #expect(ReDoSCheck.shape(of: pattern) == nil)
    }
}
