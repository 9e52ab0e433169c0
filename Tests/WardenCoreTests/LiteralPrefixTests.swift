import Testing
@testable import WardenCore

@Suite("Leading literals that gate patterns")
struct LiteralPrefixTests {
    @Test(arguments: [
        ("\\bcheck out my channel\\b", ["check out my channel"]),
        ("\\b(?:check|visit) (?:out )?my", ["check", "visit"]),
        ("(?x) \\b (?: subscribe | sub ) \\s to", ["subscribe", "sub"]),
        ("(?i)WHERE IS", ["where is"]),
        ("(?<!not )\\bkys\\b", ["kys"]),
        ("colou?r", ["colo"]),
        ("a+b", ["a"]),
        ("bit\\.ly/\\w+", ["bit.ly/"]),
        ("(?:foo|bar)?baz", nil),
        ("[a-z]+ing", nil),
        ("\\d{16}", nil),
        ("(?:\\A|[.!?]\\s)subscribe", nil),
        ("foo|.*bar", nil),
        ("x*yz", nil),
    ] as [(String, [String]?)])
    func extraction(pattern: String, expected: [String]?) {
        #expect(LiteralPrefixes.extract(pattern) == expected.map(Set.init), "\(pattern)")
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
            let prefixes = try #require(LiteralPrefixes.extract(source), "\(source)")
            for text in texts {
                let bytes = Array(text.utf8)
                _ = bytes.withUnsafeBufferPointer { buffer in
                    scratch.forEachMatch(pattern, in: buffer) { range in
                        let matched = String(decoding: bytes[range], as: UTF8.self).lowercased()
                        #expect(prefixes.contains { matched.hasPrefix($0) }, "\(source) matched \(matched)")
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
