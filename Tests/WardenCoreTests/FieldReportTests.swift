import Foundation
import Testing
@testable import WardenCore

/// Behaviour fixed after writing the shipped rules against real posts.
@Suite("Fixes from writing the shipped rules")
struct FieldReportTests {
    func normalized(_ text: String) -> String {
        var normalizer = Normalizer()
        return String(decoding: normalizer.normalize(text).bytes, as: UTF8.self)
    }

    @Test(arguments: [("1k subscribers", "1k subscribers"), ("4k tv", "4k tv"), ("5g mast", "5g mast"), ("$h1t", "shit"), ("sh1t", "shit")])
    func shortNumbersAreNotLeet(input: String, expected: String) {
        #expect(normalized(input) == expected)
    }

    @Test(arguments: [("Like &amp; Subscribe", "like & subscribe"), ("I&#39;m here", "i'm here"), ("&lt;3", "<3"), ("AT&T &amp co", "at&t &amp co")])
    func htmlEntitiesAreRead(input: String, expected: String) {
        #expect(normalized(input) == expected)
    }

    @Test func entityOffsetsCoverTheEntity() {
        var normalizer = Normalizer()
        let text = normalizer.normalize("a&amp;b")
        #expect(text.originalRange(ofBytes: 1..<2) == 1..<6)
    }

    @Test("stems do not get a collapsed variant: nigger* must not catch Niger")
    func stemsKeepTheirDoubles() throws {
        let entries = WordTrie.withCollapsedVariants([WordTrie.Entry(text: "bobble", isStem: true), WordTrie.Entry(text: "bollocks", isStem: false)])
        #expect(Set(entries.map(\.text)) == ["bobble", "bolocks", "bollocks"])
    }

    @Test(arguments: ["I rang 0800 123 4567 three times", "call 0345 600 0000", "ring +44 800 123 4567", "0870 123 4567 is engaged"])
    func organisationsServiceNumbersAreNotPersonal(text: String) {
        var found: [Range<Int>] = []
        Array(text.utf8).withUnsafeBufferPointer { Detectors.find(.phone, in: $0, into: &found) }
        #expect(found.isEmpty, "\(text)")
    }

    @Test func parcelAndPartNumbersAreNotPersonal() {
        var cards: [Range<Int>] = [], phones: [Range<Int>] = []
        Array("parcel 9400 1000 0000 0000 0000 00 is lost".utf8).withUnsafeBufferPointer { Detectors.find(.paymentCard, in: $0, into: &cards) }
        Array("Is part number 0121 455 90 the right filter?".utf8).withUnsafeBufferPointer { Detectors.find(.phone, in: $0, into: &phones) }
        #expect(cards.isEmpty && phones.isEmpty)
        var card: [Range<Int>] = []
        Array("card 4111 1111 1111 1111 2 tickets".utf8).withUnsafeBufferPointer { Detectors.find(.paymentCard, in: $0, into: &card) }
        #expect(card.count == 1)
    }

    @Test func personalNumbersStillAre() {
        var found: [Range<Int>] = []
        Array("call me on 07700 900123".utf8).withUnsafeBufferPointer { Detectors.find(.phone, in: $0, into: &found) }
        #expect(found.count == 1)
    }

    @Test("letters inside links do not dilute shouting")
    func capsIgnoreLinks() {
        let stats = Array("BUY NOW https://example.net/lowercase-path".utf8).withUnsafeBufferPointer { TextStats.measure($0) }
        #expect(stats.letters == 6 && stats.uppercase == 6 && stats.links == 1)
    }

    @Test("a rule can opt out of its guideline's strikes")
    func ruleStrikesOverride() throws {
        let rules = try TemporaryRules(["spam.yaml": """
            guideline: spam
            title: No spam
            text: t
            strikes: true
            rules:
              - id: spam.link
                words: [bitly]
                action: hold
                strikes: false
              - id: spam.scam
                words: [bitcoin]
                action: delete
            """])
        defer { rules.remove() }
        let judge = Judge(ruleSet: try rules.load())
        #expect(judge.judge(Post(id: "a", authorID: "u", text: "see bitly")).strikeGuidelines == [])
        #expect(judge.judge(Post(id: "b", authorID: "u", text: "bitcoin bitly")).strikeGuidelines == ["spam"])
    }
}
