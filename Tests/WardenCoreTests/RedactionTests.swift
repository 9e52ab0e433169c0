import Foundation
import Testing
@testable import WardenCore

/// Redaction and match texts cut from the post's UTF-8 bytes by scalar offsets
/// (`ScalarIndexedText`) give exactly what cutting an array of scalars gave.
@Suite("Redaction on UTF-8 bytes")
struct RedactionTests {
    /// The redaction as it was written over `[Unicode.Scalar]`, kept here as the reference.
    static func reference(_ text: String, spans: [Range<Int>]) -> String {
        let scalars = Array(text.unicodeScalars)
        var masked = [Bool](repeating: false, count: scalars.count)
        for span in spans {
            let lower = max(0, min(span.lowerBound, scalars.count)), upper = max(lower, min(span.upperBound, scalars.count))
            for index in lower..<upper { masked[index] = true }
        }
        var out = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            out.append(masked[index] && !scalar.properties.isWhitespace ? "*" : scalar)
        }
        return String(out)
    }

    static let texts = [
        "",
        "plain ascii text with a swear word",
        "héllo wörld, ça va?",
        "tabs\tand\nnewlines\r\nand\u{0B}vertical\u{0C}feeds",
        "no\u{00A0}break and ideographic\u{3000}space and line\u{2028}separator and next\u{0085}line",
        "emoji 👋🏽 and flags 🇬🇧 and zero\u{200B}width",
        "combining e\u{0301} marks and ｆｕｌｌｗｉｄｔｈ",
        "مرحبا fuck שלום",
    ]

    @Test(arguments: texts)
    func redactingMatchesTheScalarReference(text: String) {
        let count = text.unicodeScalars.count
        let indexed = ScalarIndexedText(text)
        #expect(indexed.scalarCount == count)
        var spanSets: [[Range<Int>]] = [[], [0..<count], [0..<min(3, count)], [max(0, count - 4)..<count + 10], [2..<2, 5..<9, 7..<12]]
        for start in stride(from: 0, to: count, by: 3) { spanSets.append([start..<min(count, start + 2)]) }
        for spans in spanSets {
            #expect(indexed.redacting(spans) == Self.reference(text, spans: spans), "\(text) \(spans)")
        }
    }

    @Test(arguments: texts)
    func slicesAreTheScalarsBetweenTheOffsets(text: String) {
        let scalars = Array(text.unicodeScalars)
        let indexed = ScalarIndexedText(text)
        for lower in 0...scalars.count {
            for upper in lower...min(scalars.count, lower + 5) {
                #expect(indexed.slice(lower..<upper) == String(String.UnicodeScalarView(scalars[lower..<upper])))
            }
        }
    }
}
