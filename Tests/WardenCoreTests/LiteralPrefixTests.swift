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
            "\\bmay\\s(?:you|he)\\s(?:suffer|rot)\\b", "(?x)(?:contact|dm)\\s+(?:him|her)\\s+(?:on|via)\\s+(?:whatsapp|telegram)",
        ]
        let texts = [
            "please check out my channel", "visit my page now", "we will find you", "I WILL GET YOU", "FREE  robux here",
            "free vbucks", "sub 2 me", "subscribe to me", "ababacd", "nothing here at all", "may he rot", "may you suffer",
            "contact him via whatsapp", "dm her on telegram",
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
                        for set in requirement.also { #expect(set.contains { matched.contains($0) }, "\(source) matched \(matched) without \(set)") }
                        return true
                    }
                }
            }
        }
    }

    @Test("a pattern needs one literal of every required set, not only of the best one")
    func furtherRequiredSets() throws {
        let curse = try #require(LiteralPrefixes.extract("\\bmay\\s(?:you|he)\\s(?:suffer|rot)\\b"))
        #expect(curse.literals == ["may"])
        #expect(curse.also == [["suffer", "rot"], ["you", "he"]])
        // A set that contains a kept set adds nothing.
        let contact = try #require(LiteralPrefixes.extract("(?:dm|text) me (?:on|via) (?:whatsapp|telegram)"))
        #expect(contact.literals == ["whatsapp", "telegram"])
        #expect(contact.also == [[" me "], ["dm", "text"], ["on", "via"]])
        // Inside one branch of several, only the branch's best set counts.
        let either = try #require(LiteralPrefixes.extract("(?:red (?:apple|pear)|green kiwi)"))
        #expect(either.literals == ["red ", "green kiwi"])
        #expect(either.also.isEmpty)
    }

    @Test func automatonReportsEveryLiteralAtEveryPosition() {
        let literals = ["my", "my channel", "check", "y c"]
        let automaton = LiteralAutomaton(literals: literals.map { Array($0.utf8) }, foldASCIICase: true)
        var found: [String] = []
        let bytes = Array("CHECK my Channel, my".utf8)
        bytes.withUnsafeBufferPointer { buffer in
            automaton.forEachOccurrence(in: buffer) { literal, end in
                found.append("\(literals[literal])@\(end - automaton.lengths[literal])")
            }
        }
        #expect(found == ["check@0", "my@6", "y c@7", "my channel@6", "my@18"])
    }

    @Test func automatonWithoutFoldingIsExact() {
        let automaton = LiteralAutomaton(literals: [Array("straße".utf8)], foldASCIICase: false)
        var count = 0
        Array("STRASSE straße Straße".utf8).withUnsafeBufferPointer { automaton.forEachOccurrence(in: $0) { _, _ in count += 1 } }
        #expect(count == 1)
    }
}
