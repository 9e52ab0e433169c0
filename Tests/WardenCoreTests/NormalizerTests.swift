import Testing

@testable import WardenCore

/// The normalised text as a String, for readable expectations.
private func normalized(_ text: String) -> String {
    var normalizer = Normalizer()
    return String(decoding: normalizer.normalize(text).bytes, as: UTF8.self)
}

/// Where `word` (already normalised) matched, mapped back into the original text, as the
/// judge reports it in an action file.
private func originalSpan(of word: String, in text: String) -> Range<Int>? {
    var normalizer = Normalizer()
    let result = normalizer.normalize(text)
    let needle = Array(word.utf8)
    let haystack = result.bytes
    guard needle.count <= haystack.count else { return nil }
    for start in 0...(haystack.count - needle.count)
    where Array(haystack[start..<(start + needle.count)]) == needle {
        return result.originalRange(ofBytes: start..<(start + needle.count))
    }
    return nil
}

/// The original text's scalars in a range, which is what a moderator sees highlighted.
private func scalars(_ text: String, _ range: Range<Int>) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: Array(text.unicodeScalars)[range])
    return String(view)
}

@Suite("Normalizer: what obfuscated posts become")
struct NormalizerOutputTests {
    @Test(
        "Obfuscated swearing reads as the plain word",
        arguments: [
            ("sh1t", "shit"),
            ("$h1t", "shit"),
            ("@$$hole", "asshole"),
            ("@ss", "ass"),
            ("b1tch", "bitch"),
            ("fu(k off", "fuck off"),
            ("sh!t", "shit"),
            ("f u c k", "fuck"),
            ("f.u.c.k", "fuck"),
            ("s-h-i-t", "shit"),
            ("f*u*c*k", "fuck"),
            ("f+u+c+k", "fuck"),
            ("5 h 1 t", "shit"),
            ("fuuuuuck", "fuck"),
            ("shiiiiit", "shit"),
            ("FUCK", "fuck"),
            ("fück", "fuck"),
            ("shït", "shit"),
            ("f#ck", "f*ck"),
            ("f##k", "f**k"),
            ("f**k", "f**k"),
            ("ｆｕｃｋ", "fuck"),
            ("𝐟𝐮𝐜𝐤", "fuck"),
            ("𝓯𝓾𝓬𝓴", "fuck"),
            ("ⓕⓤⓒⓚ", "fuck"),
            ("\u{0441}unt", "cunt"),  // Cyrillic с
            ("\u{0455}\u{04BB}\u{0456}\u{0442}", "shit"),  // Cyrillic ѕһіт
            ("\u{03C1}\u{03B9}\u{03C3}", "piσ"),  // Greek ρ ι map, σ has no Latin twin
            ("f\u{200B}u\u{200C}c\u{200D}k", "fuck"),
            ("f\u{00AD}uck", "fuck"),
            ("\u{FEFF}fuck", "fuck"),
            ("f\u{0336}u\u{0336}c\u{0336}k\u{0336}", "fuck"),
            ("f\u{0489}u\u{0489}ck", "fuck"),  // enclosing marks
            ("kcuf\u{202E}", "kcuf"),  // bidi override dropped, letters kept in logical order
        ])
    func deobfuscates(_ input: String, _ expected: String) {
        #expect(normalized(input) == expected)
    }

    @Test(
        "Ordinary words, numbers and product names are only lowercased",
        arguments: [
            ("Scunthorpe", "scunthorpe"),
            ("classic", "classic"),
            ("a classic assassin", "a classic assassin"),
            ("Penistone", "penistone"),
            ("Galaxy a55", "galaxy a55"),
            ("A55", "a55"),
            ("$100", "$100"),
            ("2024", "2024"),
            ("1337", "1337"),
            ("$1000 refund", "$1000 refund"),
            ("covid19", "covid19"),
            ("hello!", "hello!"),
            ("(this is fine)", "(this is fine)"),
            ("bit.ly/abc", "bit.ly/abc"),
            ("cool", "cool"),
            ("ass", "ass"),
            ("Straße", "straße"),
            ("c++", "c++"),
            ("thanks @nalytics_team", "thanks @nalytics_team"),
            ("@council", "@council"),
        ])
    func leavesOrdinaryText(_ input: String, _ expected: String) {
        #expect(normalized(input) == expected)
    }

    @Test(
        "Whitespace runs become one space",
        arguments: [
            ("a  \t\n b", "a b"),
            ("what\u{00A0}the\u{3000}hell", "what the hell"),
            ("line\r\n\r\nnext", "line next"),
        ])
    func whitespace(_ input: String, _ expected: String) {
        #expect(normalized(input) == expected)
    }

    @Test("Repeated punctuation collapses, pairs stay")
    func repeats() {
        #expect(normalized("no!!!!!") == "no!")
        #expect(normalized("ok..") == "ok..")
        #expect(normalized("nooooo way") == "no way")
    }

    @Test("Non-Latin scripts keep their letters")
    func otherScripts() {
        #expect(normalized("שלום") == "שלום")
        #expect(normalized("مرحبا") == "مرحبا")
        #expect(normalized("안녕하세요") == "안녕하세요")
        #expect(normalized("日本語") == "日本語")
    }

    @Test("Word-list entries go through the same pipeline and are trimmed")
    func entries() {
        #expect(Normalizer.normalizeEntry("  Fück ") == "fuck")
        #expect(Normalizer.normalizeEntry("SH1T") == "shit")
        #expect(Normalizer.normalizeEntry("kill  yourself") == "kill yourself")
        #expect(Normalizer.normalizeEntry("Scunthorpe") == "scunthorpe")
    }

    @Test("A reused output keeps no trace of the previous post")
    func reuse() {
        var normalizer = Normalizer()
        var out = NormalizedText()
        normalizer.normalize("a very long first post about nothing much", into: &out)
        normalizer.normalize("Hi", into: &out)
        #expect(String(decoding: out.bytes, as: UTF8.self) == "hi")
        #expect(out.scalarStart == [0, 1])
        #expect(out.scalarEnd == [1, 2])
    }

    @Test("Empty and invisible-only posts normalise to nothing")
    func empty() {
        #expect(normalized("").isEmpty)
        #expect(normalized("\u{200B}\u{200B}").isEmpty)
        var normalizer = Normalizer()
        #expect(normalizer.normalize("").originalRange(ofBytes: 0..<0) == 0..<0)
    }
}

@Suite("Normalizer: matches map back to what the poster wrote")
struct NormalizerOffsetTests {
    @Test(
        "Offsets in Unicode scalars cover the whole obfuscated word",
        arguments: [
            // (post, normalised word, expected original text of the match)
            ("what the fuck", "fuck", "fuck"),
            ("f.u.c.k", "fuck", "f.u.c.k"),
            ("oh f u c k off", "fuck", "f u c k"),
            ("fuuuuck!", "fuck", "fuuuuck"),
            ("total sh1t", "shit", "sh1t"),
            ("\u{0441}unt", "cunt", "\u{0441}unt"),
            ("ｆｕｃｋ", "fuck", "ｆｕｃｋ"),
            ("𝐟𝐮𝐜𝐤 you", "fuck", "𝐟𝐮𝐜𝐤"),
            ("f\u{200B}u\u{200B}c\u{200B}k\u{200B} you", "fuck", "f\u{200B}u\u{200B}c\u{200B}k\u{200B}"),
            ("\u{200B}fuck", "fuck", "\u{200B}fuck"),
            ("Z̷̢a̵̛l̸g̶o̴ f̸̢u̴c̷k̶ text", "fuck", "f̸̢u̴c̷k̶"),
            ("fück", "fuck", "fück"),
            ("fu\u{0308}ck", "fuck", "fu\u{0308}ck"),
            ("f#ck off", "f*ck", "f#ck"),
            // Characters that expand under NFKC (ﷺ is 18 letters) outgrow the buffers sized
            // one unit per byte; the match after them still maps back exactly.
            (String(repeating: "\u{FDFA}", count: 40) + " fuck " + String(repeating: "\u{FDFA}", count: 40), "fuck", "fuck"),
            (String(repeating: "\u{FDFA}", count: 40) + "f\u{FDFA}u c k", "f", "f"),
        ])
    func mapsBack(_ post: String, _ word: String, _ expected: String) throws {
        let span = try #require(originalSpan(of: word, in: post))
        #expect(scalars(post, span) == expected)
    }

    @Test(
        "Emoji before and after a bad word do not shift its offsets",
        arguments: [
            "😀 fuck 😀",
            "👍🏽 fuck 👍🏽",
            "👨‍👩‍👧‍👦 fuck 👨‍👩‍👧‍👦",
            "🏳️‍🌈🏳️‍🌈 fuck",
            "fuck 👩🏿‍💻",
            "❤️❤️❤️ fuck ❤️",
        ])
    func emoji(_ post: String) throws {
        let span = try #require(originalSpan(of: "fuck", in: post))
        #expect(scalars(post, span) == "fuck")
        let expectedStart = Array(post.unicodeScalars).firstIndex(of: "f")
        #expect(span.lowerBound == expectedStart)
    }

    @Test(
        "An English swear word inside right-to-left text is located in logical order",
        arguments: [
            ("שלום fuck עולם", "fuck"),
            ("مرحبا fuck عالم", "fuck"),
            // The invisible pop-direction mark after the word rides along with its last letter,
            // so masking the match also removes it.
            ("\u{202B}שלום fuck\u{202C}", "fuck\u{202C}"),
        ])
    func rightToLeft(_ post: String, _ expected: String) throws {
        let span = try #require(originalSpan(of: "fuck", in: post))
        #expect(scalars(post, span) == expected)
    }

    @Test("ASCII text maps one byte to one scalar")
    func asciiIdentity() {
        var normalizer = Normalizer()
        let result = normalizer.normalize("Hello world")
        #expect(result.scalarStart == (0..<11).map(Int32.init))
        #expect(result.scalarEnd == (1...11).map(Int32.init))
        #expect(result.originalRange(ofBytes: 6..<11) == 6..<11)
    }

    @Test("Empty and out-of-range byte ranges are clamped, not trapped")
    func emptyRanges() {
        var normalizer = Normalizer()
        let result = normalizer.normalize("ab cd")
        #expect(result.originalRange(ofBytes: 3..<3) == 3..<3)
        #expect(result.originalRange(ofBytes: 5..<5) == 5..<5)
        #expect(result.originalRange(ofBytes: 3..<99) == 3..<5)
    }

    @Test("Multi-byte output characters map every byte to the same scalar")
    func multiByte() {
        var normalizer = Normalizer()
        let result = normalizer.normalize("é中😀")
        // "e" (1 byte) + 中 (3 bytes) + 😀 (4 bytes)
        #expect(result.bytes.count == 8)
        #expect(result.originalRange(ofBytes: 1..<4) == 1..<2)
        #expect(result.originalRange(ofBytes: 4..<8) == 2..<3)
    }

    /// Generates posts from pieces that exercise every stage, with a fixed-seed generator so a
    /// failure reproduces.
    @Test("Every output byte maps inside the original, in order", arguments: 0..<8)
    func propertyOffsetsStayInside(seed: Int) {
        let pieces = [
            "f", "u", "c", "k", " ", ".", "-", "*", "#", "1", "3", "$", "@", "!", "(", "+", "0",
            "é", "ü", "\u{0301}", "\u{200B}", "\u{FEFF}", "ｆ", "𝐟", "ⓐ", "а", "ο", "😀", "👍🏽",
            "\u{200D}", "שׁ", "م", "中", "\n", "\t", "ﬁ", "ß", "İ", "ǅ", "\u{FE0F}", "aaa", "!!!",
            "\u{0489}", "€", "£", "|", "ﷺ", "\u{00A8}",
        ]
        var rng = SplitMix64(seed: UInt64(seed) &+ 0x9E37_79B9_7F4A_7C15)  // the sequence these cases were written with
        var normalizer = Normalizer()
        var out = NormalizedText()
        for _ in 0..<300 {
            var post = ""
            for _ in 0..<Int(rng.next() % 40) {
                post += pieces[Int(rng.next() % UInt64(pieces.count))]
            }
            normalizer.normalize(post, into: &out)
            let scalarCount = Int32(post.unicodeScalars.count)
            #expect(out.scalarStart.count == out.bytes.count)
            #expect(out.scalarEnd.count == out.bytes.count)
            var previousStart: Int32 = 0
            var ok = String(validating: out.bytes, as: UTF8.self) != nil
            for k in out.bytes.indices {
                let start = out.scalarStart[k]
                let end = out.scalarEnd[k]
                if !(0 <= start && start < end && end <= scalarCount && start >= previousStart) {
                    ok = false
                }
                previousStart = start
            }
            #expect(ok, "bad offset map for \(post.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }
}
