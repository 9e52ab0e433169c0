import Testing

@testable import WardenCore

private func stats(_ text: String) -> TextStats {
    Array(text.utf8).withUnsafeBufferPointer { TextStats.measure($0) }
}

@Suite("TextStats: figures for when-conditions")
struct TextStatsTests {
    @Test("Shouting in capitals shows in the caps ratio")
    func caps() {
        let shouting = stats("WORST SERVICE EVER")
        #expect(shouting.letters == 16)
        #expect(shouting.uppercase == 16)
        #expect(shouting.capsRatio == 1)
        #expect(stats("Worst service ever").capsRatio < 0.1)
        #expect(stats("12345 !!!").capsRatio == 0)
    }

    @Test("Letters and capitals are counted in any script")
    func unicodeLetters() {
        let greek = stats("ΑΒΓ δε")
        #expect(greek.letters == 5)
        #expect(greek.uppercase == 3)
        let mixed = stats("ÉCOLE 日本")
        #expect(mixed.letters == 7)
        #expect(mixed.uppercase == 5)
    }

    @Test(
        "Length is in Unicode scalars, as offsets are",
        arguments: [("hello", 5), ("héllo", 5), ("👍🏽", 2), ("👨‍👩‍👧", 5), ("", 0)])
    func length(_ text: String, _ expected: Int) {
        #expect(stats(text).scalars == expected)
    }

    @Test(
        "Links are counted once each, bare domains included",
        arguments: [
            ("see https://example.com/a.b?c=d and http://x.org", 2),
            ("go to www.example.com now", 1),
            ("bit.ly/x bit.ly/y tinyurl.com/z", 3),
            ("visit example.com.", 1),
            ("e.g. this costs 3.14 and i.e. that", 0),
            ("mail gemma@example.com", 0),
            ("great.thanks for nothing", 0),
            ("no links at all", 0),
        ])
    func links(_ text: String, _ expected: Int) {
        #expect(stats(text).links == expected)
    }

    @Test(
        "Mentions are @names, not email addresses",
        arguments: [
            ("@council thanks @Gemma_77", 2),
            ("write to gemma@example.com", 0),
            ("me @ home", 0),
            ("(@support)", 1),
        ])
    func mentions(_ text: String, _ expected: Int) {
        #expect(stats(text).mentions == expected)
    }

    @Test(
        "Longest run of one repeated character",
        arguments: [
            ("nooooooo", 7),
            ("why!!!!!!!!!!", 10),
            ("cool", 2),
            ("a          b", 1),  // spaces are not shouting
            ("😡😡😡", 3),
            ("", 0),
        ])
    func longestRun(_ text: String, _ expected: Int) {
        #expect(stats(text).longestRun == expected)
    }
}
