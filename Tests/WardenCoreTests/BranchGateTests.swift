import Foundation
import Testing
@testable import WardenCore

/// Gates per top-level branch (`LiteralPrefixes.Requirement.branches`, issue 15): a pattern
/// `A|B` runs only when every literal set of A, or every one of B, occurs in the post; what the
/// judge decides is what the ungated plan decides.
@Suite("A literal gate per top-level branch")
struct BranchGateTests {
    static let fruit = #"\bred\b[^.]*\bapple\b|\bgreen\b[^.]*\bkiwi\b"#

    /// Patterns whose branch gates must not skip a post they match: case, inline flags,
    /// optional groups, lookarounds, classes, back-references, \Q…\E and digits.
    static let tricky = [
        // First, so that its further sets come first in the plan's table of sets, where the
        // branch sets follow them (d1df19f numbered the branch sets from 0 and failed here).
        #"\bmay\s(?:you|he)\s(?:suffer|rot)\b"#,
        fruit,
        #"(?i)\bRED\b[^.]*\bAPPLE\b|\bGREEN\b[^.]*\bKIWI\b"#,
        #"\bred (?:ripe )?apple\b|(?:very )?green kiwi\b"#,
        #"\bred\b(?=[^.]*\bapple\b)|\bgreen\b(?![^.]*\bpear\b)[^.]*\bkiwi\b"#,
        #"\b[Rr]ed\s+[a-z]*pple\b|\bgreen\s+kiwi"#,
        #"\b(red|green) \1 apple\b|\bgreen\b[^.]*\bkiwi\b"#,
        #"\Qred.\E[^.]*apple|green[^.]*kiwi"#,
        #"\bred\s+\d+\s+apples?\b|\b\d+\s+green\s+kiwis?\b"#,
        #"\bred\b[^.]*\bapple\b|kiwi"#,
        #"(?:\bred\b[^.]*\bapple\b|\bgreen\b[^.]*\bkiwi\b)"#,
        #"\bred\b[^.]*\bapple\b|(?x) \b green \b [^.]* \b kiwi \b"#,
        // A group that the one top-level branch must match once: its branches are gated too.
        #"\bsay (?:red\s+(?:ripe\s+)?apple|green\s+kiwi)\b"#,
        #"\b(?:red|green)\s+(?:big\s+apple|small\s+kiwi)s?\b"#,
        #"(?:red\s+apple|green\s+kiwi)?\s*pear"#,
        #"(?:red\s+apple|green\s+kiwi)+s"#,
        #"(?:red\s+apple|green\s+kiwi){0,2}pear"#,
    ]

    static let texts = [
        "green apple", "red apple", "a red and shiny apple", "green kiwi", "GREEN KIWI", "Red Apple",
        "red kiwi, green apple", "red. apple", "red ripe apple", "very green kiwi", "red red apple",
        "green green apple", "red 3 apples", "3 green kiwis", "red.x apple", "kiwi", "green pear kiwi",
        "ɢreen kiwi", "réd apple", "redapple greenkiwi", "may you rot, red apple", "say red ripe apple", "say green kiwi", "say green apple", "red small kiwis",
        "green big apple", "pear", "red apple pear", "green kiwired apples", "a post about the weather",
    ]

    /// One rule per pattern, and with `everyView` two more: on the original text, caseless and case-sensitive.
    private static func rules(_ patterns: [String], everyView: Bool) -> String {
        var yaml = """
            guideline: fruit
            title: No fruit
            text: Talk about something else.
            url: https://example.org/guidelines#fruit
            rules:

            """
        for (n, pattern) in patterns.enumerated() {
            let quoted = "['" + pattern.replacingOccurrences(of: "'", with: "''") + "']"
            yaml += "  - id: fruit.p\(n)\n    patterns: \(quoted)\n    action: hold\n"
            guard everyView else { continue }
            yaml += "  - id: fruit.p\(n)-original\n    patterns: \(quoted)\n    normalize: false\n    action: hold\n"
            yaml += "  - id: fruit.p\(n)-cased\n    patterns: \(quoted)\n    normalize: false\n    case_sensitive: true\n    action: hold\n"
        }
        return yaml
    }

    private func ruleSets(_ patterns: [String], everyView: Bool = false) throws -> (gated: RuleSet, ungated: RuleSet, directory: TemporaryRules) {
        let directory = try TemporaryRules(["fruit.yaml": Self.rules(patterns, everyView: everyView)])
        let gated = try RuleLoader.load(directory: directory.path, runExamples: false)
        let ungated = try RuleLoader.load(directory: directory.path, runExamples: false, options: MatchingOptions(gatePatterns: false))
        return (gated, ungated, directory)
    }

    @Test func eachBranchKeepsItsOwnSets() throws {
        let requirement = try #require(LiteralPrefixes.extract(Self.fruit))
        let branches = requirement.branches.map { Set($0.map { Set($0.map(\.text)) }) }
        #expect(branches == [[["apple"], ["red"]], [["green"], ["kiwi"]]])
        // One set per branch: the union says it all, so there is no branch gate.
        #expect(LiteralPrefixes.extract(#"\bovercharged\b|\bdouble charged\b"#)?.branches == [])
        // A required group's branches, each with what the rest of the pattern needs.
        let group = try #require(LiteralPrefixes.extract(#"\bsay (?:red\s+apple|green\s+kiwi)\b"#))
        #expect(group.branches.map { Set($0.map { Set($0.map(\.text)) }) } == [[["apple"], ["red"], ["say "]], [["green"], ["kiwi"], ["say "]]])
        // An optional or repeated group is not required once: no branch gate from it.
        #expect(LiteralPrefixes.extract(#"(?:red\s+apple|green\s+kiwi)?\s*pear"#)?.branches == [])
        #expect(LiteralPrefixes.extract(#"(?:red\s+apple|green\s+kiwi)+s"#)?.branches == [])
        // A branch that needs nothing certain leaves the whole pattern ungated, as before.
        #expect(LiteralPrefixes.extract(#"\bred\b.*\bapple\b|\w+"#) == nil)
    }

    @Test func aPatternRunsOnlyWhenEveryWordOfSomeBranchOccurs() throws {
        let (gated, _, directory) = try ruleSets([Self.fruit])
        defer { directory.remove() }
        let judge = Judge(ruleSet: gated)
        judge.profiling = true  // counts each rule's pattern runs
        // The old gate (the union of each branch's best set, {apple, green}) ran it; no branch has both words.
        #expect(judge.judge(Post(id: "a", authorID: "u", text: "green apple")).rules == [])
        #expect(judge.ruleRuns[0] == 0)
        #expect(judge.judge(Post(id: "b", authorID: "u", text: "a red and shiny apple")).rules == ["fruit.p0"])
        #expect(judge.ruleRuns[0] == 1)
        #expect(judge.judge(Post(id: "c", authorID: "u", text: "GREEN KIWI")).rules == ["fruit.p0"])
        #expect(judge.ruleRuns[0] == 2)
        // Both words of a branch but no match: the gate is necessary, not sufficient.
        #expect(judge.judge(Post(id: "d", authorID: "u", text: "red. apple")).rules == [])
        #expect(judge.ruleRuns[0] == 3)
    }

    @Test(arguments: texts)
    func decisionsAreTheUngatedOnes(text: String) throws {
        let (gated, ungated, directory) = try ruleSets(Self.tricky, everyView: true)
        defer { directory.remove() }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let post = Post(id: "p", authorID: "u", authorName: "Sam", text: text)
        #expect(Judge(ruleSet: gated).judge(post, now: now) == Judge(ruleSet: ungated).judge(post, now: now), "\(text)")
    }

    @Test("every match has every set of one of its branches inside it")
    func soundOnSamples() throws {
        let scratch = MatchScratch()
        for source in Self.tricky {
            guard let requirement = LiteralPrefixes.extract(source), !requirement.branches.isEmpty else { continue }
            let pattern = try CompiledPattern(source)
            for text in Self.texts {
                let bytes = Array(text.utf8)
                _ = bytes.withUnsafeBufferPointer { buffer in
                    scratch.forEachMatch(pattern, in: buffer) { range in
                        let inside = requirement.branches.contains { branch in
                            branch.allSatisfy { set in
                                if set == [LiteralPrefixes.digit] { return Judge.mayHaveDigit(UnsafeBufferPointer(rebasing: buffer[range])) }
                                let ordered = Array(set)
                                let automaton = LiteralAutomaton(
                                    literals: ordered.map { Array($0.text.utf8) }, foldASCIICase: true,
                                    edges: ordered.map { .init(start: $0.wordStart, end: $0.wordEnd) })
                                var found = false
                                automaton.forEachOccurrence(in: buffer) { literal, end in
                                    if end - automaton.lengths[literal] >= range.lowerBound && end <= range.upperBound { found = true }
                                }
                                return found
                            }
                        }
                        #expect(inside, "\(source) matched \(String(decoding: bytes[range], as: UTF8.self))")
                        return true
                    }
                }
            }
        }
    }
}

@Suite("The gate as warden check and warden scan --profile print it")
struct GateDescriptionTests {
    @Test func theGateNamesTheUnionAndEachBranch() throws {
        let directory = try TemporaryRules([
            "fruit.yaml": """
                guideline: fruit
                title: No fruit
                text: Talk about something else.
                url: https://example.org/guidelines#fruit
                rules:
                  - id: fruit.pairs
                    patterns: ['\\bred\\b[^.]*\\bapple\\b|\\bgreen\\b[^.]*\\bkiwi\\b', '\\bmay\\s(?:you|he)\\s(?:suffer|rot)\\b', '\\w+']
                    action: hold
                """,
        ])
        defer { directory.remove() }
        let ruleSet = try directory.load(runExamples: false)
        let patterns = try #require(ruleSet.rule(id: "fruit.pairs")).allPatterns
        #expect(patterns.map(ruleSet.gateDescription(of:)) == [
            #"[\bapple\b | \bgreen\b]; and one branch's: ([\bapple\b] and [\bred\b]) or ([\bgreen\b] and [\bkiwi\b])"#,
            #"[\bmay\b] and [\brot\b | \bsuffer\b] and [\bhe\b | \byou\b]"#,
            "(every post)",
        ])
    }
}
