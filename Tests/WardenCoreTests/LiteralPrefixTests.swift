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
        // Both sets are required; "i am" and "we are" must be whole words, so they rank as high.
        ("\\b(?:i am|we are) (?:so )?(?:angry|furious)\\b", ["i am", "we are"], true),
        ("(?:foo|bar)?bazz", ["bazz"], false),
        ("[a-z]+ing", ["ing"], false),
        ("\\d{16}", nil, false),
        ("(?:\\A|[.!?]\\s)subscribe", ["subscribe"], false),
        ("foo|.*bar", ["foo", "bar"], false),
        ("foo|\\d+", nil, false),
        ("x*yz", ["yz"], false),
        ("\\bmy\\s+\\w+\\s+is\\s+[0-9]{4}", ["my"], true),
        ("(?<name>abc)", nil, false),
        // Option groups read their body with their own x flag.
        ("(?x) \\b (?-x:do in) \\b", ["do in"], true),
        ("\\bgo (?x: a w a y )", ["away"], false),
        // A word-start letter loses a tie to a two-character literal (issue 15: it was found in 90% of real posts).
        ("\\bt\\s?&\\s?c\\s+(?:apply\\s+)?18\\s?\\+", ["18"], false),
    ] as [(String, [String]?, Bool)])
    func extraction(pattern: String, expected: [String]?, atStart: Bool) {
        let requirement = LiteralPrefixes.extract(pattern)
        #expect(requirement?.texts == expected.map(Set.init), "\(pattern)")
        if expected != nil { #expect(requirement?.atStart == atStart, "\(pattern)") }
    }

    @Test("every match of a gated pattern starts with one of its literals")
    func soundOnSamples() throws {
        let patterns = [
            "\\b(?:check|visit) (?:out )?my (?:channel|page)\\b", "(?x) \\b (?: i | we ) \\s will \\s (?:find|get) \\s you",
            "(?i)free\\s+(?:robux|v-?bucks)", "\\bsub(?:scribe)? (?:to|2) me\\b", "(?:ab|ac)+d",
            "\\bmay\\s(?:you|he)\\s(?:suffer|rot)\\b", "(?x)(?:contact|dm)\\s+(?:him|her)\\s+(?:on|via)\\s+(?:whatsapp|telegram)",
            "\\bon\\s+hold\\b", "(?:^|,)\\s*eth(?!\\w)", "\\b(?:dogs?|cats?)\\b", "\\bsend\\s+\\d+\\s*(?:btc|eth)\\b",
        ]
        let texts = [
            "please check out my channel", "visit my page now", "we will find you", "I WILL GET YOU", "FREE  robux here",
            "free vbucks", "sub 2 me", "subscribe to me", "ababacd", "nothing here at all", "may he rot", "may you suffer",
            "contact him via whatsapp", "dm her on telegram", "on hold, on hold!", "phone on hold", "eth, eth", "Eth-ereum",
            "dogs and cats", "dog_cat dogcat", "send 5eth", "send 5 ETH now", "résumé dogs",
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
                        #expect(requirement.texts.contains { matched.contains($0) }, "\(source) matched \(matched)")
                        if requirement.atStart { #expect(requirement.texts.contains { matched.hasPrefix($0) }) }
                        // Each set has an occurrence inside the match that the scan counts,
                        // word edges included.
                        for set in [requirement.literals] + requirement.also {
                            if set == [LiteralPrefixes.digit] {
                                #expect(Judge.mayHaveDigit(UnsafeBufferPointer(rebasing: buffer[range])), "\(source) matched \(matched)")
                                continue
                            }
                            let ordered = Array(set)
                            let automaton = LiteralAutomaton(
                                literals: ordered.map { Array($0.text.utf8) }, foldASCIICase: true,
                                edges: ordered.map { .init(start: $0.wordStart, end: $0.wordEnd) })
                            var inside = false
                            automaton.forEachOccurrence(in: buffer) { literal, end in
                                if end - automaton.lengths[literal] >= range.lowerBound && end <= range.upperBound { inside = true }
                            }
                            #expect(inside, "\(source) matched \(matched) without \(ordered)")
                        }
                        return true
                    }
                }
            }
        }
    }

    @Test("a pattern needs one literal of every required set, not only of the best one")
    func furtherRequiredSets() throws {
        func texts(_ sets: [Set<LiteralPrefixes.Literal>]) -> [Set<String>] { sets.map { Set($0.map(\.text)) } }
        let curse = try #require(LiteralPrefixes.extract("\\bmay\\s(?:you|he)\\s(?:suffer|rot)\\b"))
        #expect(curse.texts == ["may"])
        #expect(texts(curse.also) == [["suffer", "rot"], ["you", "he"]])
        // A set that another kept set implies adds nothing.
        let contact = try #require(LiteralPrefixes.extract("(?:dm|text) me (?:on|via) (?:whatsapp|telegram)"))
        #expect(contact.texts == ["whatsapp", "telegram"])
        #expect(texts(contact.also) == [[" me "], ["on", "via"], ["dm", "text"]])
        // Inside one branch of several, only the branch's best set counts.
        let either = try #require(LiteralPrefixes.extract("(?:red (?:apple|pear)|green kiwi)"))
        #expect(either.texts == ["apple", "pear", "green kiwi"])
        #expect(either.also.isEmpty)
    }

    @Test("\\d is a set of its own, checked by the judge, never the primary")
    func digitRequirement() throws {
        let reference = try #require(LiteralPrefixes.extract("\\border\\s+(?:no\\s+)?\\d{6,}"))
        #expect(reference.texts == ["order"])
        #expect(reference.also.contains([LiteralPrefixes.digit]))
        // Only digits: nothing the scan can find, so the pattern runs on every post.
        #expect(LiteralPrefixes.extract("\\d{16}") == nil)
        // Optional digits require nothing.
        #expect(LiteralPrefixes.extract("\\border\\s*\\d*")?.also.contains([LiteralPrefixes.digit]) == false)
        // A branch whose best set is the digit check does not spoil the union of branches.
        let either = try #require(LiteralPrefixes.extract("(?:ref\\s+\\d+|booking\\s+\\d+)"))
        #expect(either.texts == ["ref", "booking"])
    }

    @Test(
        "a literal records which of its edges must be a word's edge",
        arguments: [
            // (pattern, literal text, must start a word, must end a word)
            ("\\bon\\b", "on", true, true),
            ("\\bon\\s+hold", "hold", true, false),
            ("\\bon\\s+hold", "on", true, true),
            ("\\b(?:eth|btc)\\b", "eth", true, true),
            ("\\bcat", "cat", true, false),
            ("cat\\b", "cat", false, true),
            ("\\b-cat", "-cat", false, false),  // \b before a non-word character says the opposite
            ("x\\s+(?:dog|cow)\\s", "dog", true, true),
            ("x\\s*(?:dog|cow)", "dog", false, false),  // \s* may be empty
            ("\\b(?:dogs?)\\b", "dog", true, false),  // s? may follow
            ("\\b(?:dog)+\\b", "dog", false, false),  // repeated
            ("(?:^|,)horse(?!\\w)", "horse", false, true),
            ("^horse$", "horse", true, true),
            ("\\bhorse(?=\\w)", "horse", true, false),
            ("\\bword(?:list|s)\\b", "word", true, false),
            ("(?x) \\b (?: big | small ) \\s dog \\b", "dog", true, true),
        ] as [(String, String, Bool, Bool)])
    func wordEdges(pattern: String, text: String, start: Bool, end: Bool) throws {
        let requirement = try #require(LiteralPrefixes.extract(pattern))
        let all = requirement.literals.union(requirement.also.flatMap { $0 })
        let literal = try #require(all.first { $0.text == text }, "\(pattern): \(all)")
        #expect(literal.wordStart == start, "\(pattern)")
        #expect(literal.wordEnd == end, "\(pattern)")
    }

    @Test("an occurrence inside a longer word does not count for a literal that must be a word")
    func automatonChecksEdges() {
        let literals = ["on", "eth", "hold"]
        let automaton = LiteralAutomaton(
            literals: literals.map { Array($0.utf8) }, foldASCIICase: true,
            edges: [.init(start: true, end: true), .init(start: true, end: true), .init(start: false, end: false)])
        var found: [String] = []
        Array("Phone someTHING on hold, ETH! On-line é-on".utf8).withUnsafeBufferPointer { buffer in
            automaton.forEachOccurrence(in: buffer) { literal, end in found.append("\(literals[literal])@\(end - automaton.lengths[literal])") }
        }
        // "phONe" and "somETHing" are inside words; "On-line" and "é-on" are not.
        #expect(found == ["on@16", "hold@19", "eth@25", "on@30", "on@41"])
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

    @Test("scanning two texts side by side finds what scanning each alone finds")
    func pairedScanMatchesSingleScans() {
        let a = LiteralAutomaton(literals: ["on", "hold", "phone", "n h"].map { Array($0.utf8) }, foldASCIICase: false)
        let b = LiteralAutomaton(literals: ["ON", "x", "hold on"].map { Array($0.lowercased().utf8) }, foldASCIICase: true)
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("onhldpex ".utf8)
        for _ in 0..<200 {
            let first = (0..<Int.random(in: 0...60, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let second = (0..<Int.random(in: 0...60, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            first.withUnsafeBufferPointer { x in
                second.withUnsafeBufferPointer { y in
                    var (pairA, pairB, aloneA, aloneB) = ([UInt64](), [UInt64](), [UInt64](), [UInt64]())
                    let (n, m) = LiteralAutomaton.scanPair(a, x, into: &pairA, b, y, into: &pairB)
                    let (n1, m1) = (a.scan(x, into: &aloneA), b.scan(y, into: &aloneB))
                    #expect(Array(pairA.prefix(n)) == Array(aloneA.prefix(n1)))
                    #expect(Array(pairB.prefix(m)) == Array(aloneB.prefix(m1)))
                }
            }
        }
    }

    @Test func automatonWithoutFoldingIsExact() {
        let automaton = LiteralAutomaton(literals: [Array("straße".utf8)], foldASCIICase: false)
        var count = 0
        Array("STRASSE straße Straße".utf8).withUnsafeBufferPointer { automaton.forEachOccurrence(in: $0) { _, _ in count += 1 } }
        #expect(count == 1)
    }
}
