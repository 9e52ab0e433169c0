import Testing
@testable import WardenCore

@Suite("Leading literals that gate patterns")
struct LiteralPrefixTests {
    @Test(arguments: [
        ("\\bcheck out my channel\\b", ["check out my channel"], true),
        ("\\b(?:check|visit) (?:out )?my", ["check", "visit"], true),
        ("(?x) \\b (?: subscribe | sub ) \\s to", ["subscribe", "sub"], true),
        ("(?i)WHERE IS", ["where is"], true),
        ("(?<!not )\\bkys\\b", ["kys"], true),
        ("colou?r", ["colo"], true),
        ("a+bcd", ["bcd"], false),
        ("bit\\.ly/\\w+", ["bit.ly/"], true),
        ("\\b(?:i am|we are) (?:so )?(?:angry|furious)\\b", ["angry", "furious"], false),
        ("(?:foo|bar)?bazz", ["bazz"], false),
        ("[a-z]+ing", ["ing"], false),
        ("\\d{16}", nil, false),
        ("(?:\\A|[.!?]\\s)subscribe", ["subscribe"], false),
        ("foo|.*bar", ["foo", "bar"], false),
        ("foo|\\d+", nil, false),
        ("x*yz", ["yz"], false),
        ("\\bmy\\s+\\w+\\s+is\\s+[0-9]{4}", ["my"], true),
        ("(?<name>abc)", nil, false),
    ] as [(String, [String]?, Bool)])
    func extraction(pattern: String, expected: [String]?, atStart: Bool) {
        let requirement = LiteralPrefixes.extract(pattern)
        #expect(requirement?.literals == expected.map(Set.init), "\(pattern)")
        if expected != nil { #expect(requirement?.atStart == atStart, "\(pattern)") }
    }

    @Test("every match of a gated pattern starts with one of its literals")
    func soundOnSamples() throws {
        let patterns = [
            "\\b(?:check|visit) (?:out )?my (?:channel|page)\\b", "(?x) \\b (?: i | we ) \\s will \\s (?:find|get) \\s you",
            "(?i)free\\s+(?:robux|v-?bucks)", "\\bsub(?:scribe)? (?:to|2) me\\b", "(?:ab|ac)+d",
        ]
        let texts = [
            "please check out my channel", "visit my page now", "we will find you", "I WILL GET YOU", "FREE  robux here",
            "free vbucks", "sub 2 me", "subscribe to me", "ababacd", "nothing here at all",
        ]
        let scratch = MatchScratch()
        for source in patterns {
            let pattern = try CompiledPattern(source)
            let requirement = try #require(LiteralPrefixes.extract(source), "\(source)")
            for text in texts {
                let bytes = Array(text.utf8)
                _ = bytes.withUnsafeBufferPointer { buffer in
                    scratch.forEachMatch(pattern, in: buffer) { range in
                        let matched = String(decoding: bytes[range], as: UTF8.self).lowercased()
                        #expect(requirement.literals.contains { matched.contains($0) }, "\(source) matched \(matched)")
                        if requirement.atStart { #expect(requirement.literals.contains { matched.hasPrefix($0) }) }
                        return true
                    }
                }
            }
        }
    }

    @Test func literalScanReportsEveryLiteralAtEveryPosition() throws {
        let literals = ["my", "my channel", "check"]
        let scan = try CompiledPattern(LiteralScan.pattern(for: literals), caseless: false)
        var hits: [BranchHit] = []
        let bytes = Array("check my channel, my".utf8)
        let gaveUp = bytes.withUnsafeBufferPointer { MatchScratch().scanBranches(scan, in: $0, into: &hits) }
        #expect(gaveUp == nil)
        #expect(hits.map { literals[$0.branch] } == ["check", "my", "my channel", "my"])
        #expect(hits.map(\.range) == [0..<5, 6..<8, 6..<16, 18..<20])
    }

    @Test func literalScanGivesUpOnHostilePosts() throws {
        let scan = try CompiledPattern(LiteralScan.pattern(for: ["a"]), caseless: false)
        var hits: [BranchHit] = []
        let bytes = Array(String(repeating: "a", count: 5_000).utf8)
        let gaveUp = bytes.withUnsafeBufferPointer { MatchScratch().scanBranches(scan, in: $0, maxHits: 100, into: &hits) }
        #expect(gaveUp?.contains("more than 100") == true)
    }
}
