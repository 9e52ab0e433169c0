import Testing
@testable import WardenCore

@Suite("PCRE2 binding")
struct PCRE2Tests {
    func matches(_ pattern: CompiledPattern, _ text: String, scratch: MatchScratch = MatchScratch()) -> [String] {
        var found: [String] = []
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { buffer in
            scratch.forEachMatch(pattern, in: buffer) { range in
                found.append(String(decoding: bytes[range], as: UTF8.self))
                return true
            }
        }
        return found
    }

    @Test func caselessByDefaultAndJITCompiled() throws {
        let pattern = try CompiledPattern("check out my channel")
        #expect(pattern.isJIT)
        #expect(matches(pattern, "CHECK OUT MY CHANNEL now") == ["CHECK OUT MY CHANNEL"])
    }

    @Test func caseSensitiveWhenAsked() throws {
        let pattern = try CompiledPattern("NHS", caseless: false)
        #expect(matches(pattern, "nhs NHS") == ["NHS"])
    }

    @Test("UCP makes \\b treat ü and ß as letters")
    func unicodeWordBoundaries() throws {
        let pattern = try CompiledPattern("\\bmist\\b")
        #expect(matches(pattern, "Mistüberzug mist große") == ["mist"])
        let strasse = try CompiledPattern("\\bstra\\b")
        #expect(matches(strasse, "straße") == [])
    }

    @Test func compileErrorPointsAtTheCharacter() {
        #expect {
            _ = try CompiledPattern("ab(c")
        } throws: { error in
            guard let error = error as? PatternError else { return false }
            return error.characterOffset == 4 && error.message.contains("parenthesis")
        }
        #expect {
            _ = try CompiledPattern("ü[z-a]")
        } throws: { error in
            (error as? PatternError)?.characterOffset == 4
        }
    }

    @Test("a catastrophic pattern is stopped by the match limit, not left to hang")
    func matchLimitStopsCatastrophicBacktracking() throws {
        let pattern = try CompiledPattern("(a+)+$")
        let scratch = MatchScratch(limits: MatchLimits(matchLimit: 10_000))
        let text = Array(String(repeating: "a", count: 40) + "!" as String).map { $0 }
        let bytes = Array(String(text).utf8)
        let outcome = bytes.withUnsafeBufferPointer { scratch.firstMatch(pattern, in: $0) }
        guard case .limitExceeded(let why) = outcome else {
            Issue.record("expected a limit, got \(outcome)")
            return
        }
        #expect(why.contains("limit"))
    }

    @Test func emptyMatchesAdvanceByWholeCharacters() throws {
        let pattern = try CompiledPattern("x*")
        let found = matches(pattern, "éxé")
        #expect(found == ["", "x", "", ""])
    }

    @Test func scratchIsReusedAcrossPatterns() throws {
        let scratch = MatchScratch()
        let a = try CompiledPattern("foo"), b = try CompiledPattern("bar")
        for _ in 0..<100 {
            #expect(matches(a, "foo bar", scratch: scratch) == ["foo"])
            #expect(matches(b, "foo bar", scratch: scratch) == ["bar"])
        }
    }
}

@Suite("Word lists as prefix trees")
struct WordTrieTests {
    func entries(_ words: [String]) -> [WordTrie.Entry] {
        words.flatMap { LoadContext.entries(fromLine: $0) }
    }

    @Test func factorsSharedPrefixes() throws {
        let source = try #require(WordTrie.pattern(for: entries(["absolute", "abst", "abs"])))
        #expect(source == "\\babs(?:olute|t)?(?!\\w)")
    }

    @Test func matchesWholeWordsOnly() throws {
        let source = try #require(WordTrie.pattern(for: entries(["ass", "cunt", "shit*"])))
        let pattern = try CompiledPattern(source, caseless: false)
        let found = PCRE2Tests().matches(pattern, "scunthorpe class ass bass shitty shit shitake")
        #expect(found == ["ass", "shitty", "shit", "shitake"])
    }

    @Test func maskedEntriesKeepTheirStars() throws {
        let source = try #require(WordTrie.pattern(for: entries(["f*ck", "f**k", "sh*t"])))
        let pattern = try CompiledPattern(source, caseless: false)
        #expect(PCRE2Tests().matches(pattern, "what the f**k, sh*t and f*ck") == ["f**k", "sh*t", "f*ck"])
    }

    @Test func phrasesMatchAcrossSpaces() throws {
        let source = try #require(WordTrie.pattern(for: entries(["go to hell", "go away"])))
        let pattern = try CompiledPattern(source, caseless: false)
        #expect(PCRE2Tests().matches(pattern, "just go to hell. go to shop") == ["go to hell"])
    }

    @Test("long words with double letters also match their collapsed form; short ones do not")
    func collapsedVariants() {
        let variants = WordTrie.withCollapsedVariants(entries(["asshole", "ass"])).map(\.text)
        #expect(variants.contains("ashole"))
        #expect(!variants.contains("as"))
    }

    @Test func emptyListHasNoPattern() {
        #expect(WordTrie.pattern(for: []) == nil)
    }
}
