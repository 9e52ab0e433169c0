import Foundation
import WardenCore

/// Turning strangers' text into template data: nothing here produces markup, only pieces
/// that the templates escape. Highlights and control characters become separate segments.
enum PageParts {
    /// Bidi overrides, isolates and marks, and zero-width characters: shown as visible
    /// tags so that a post cannot reorder or hide the text around it.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2069, 0x061C, 0xFEFF: return true
        default: return scalar.value < 0x20 && scalar != "\n" && scalar != "\t"
        }
    }

    static func controlLabel(_ scalar: Unicode.Scalar) -> String { "U+" + String(format: "%04X", scalar.value) }

    /// Segments of `text`: highlighted where a rule matched (offsets in Unicode scalars).
    static func segments(_ text: String, spans: [LoggedDecision.Span]) -> [[String: Any]] {
        let scalars = Array(text.unicodeScalars)
        var marked = [String?](repeating: nil, count: scalars.count)
        for span in spans where span.start >= 0 && span.end <= scalars.count && span.start < span.end {
            for i in span.start..<span.end where marked[i] == nil { marked[i] = span.rule }
        }
        var result: [[String: Any]] = []
        var buffer = String.UnicodeScalarView()
        var bufferRule: String?
        func flush() {
            guard !buffer.isEmpty else { return }
            let piece = String(buffer)
            if let rule = bufferRule {
                result.append(["mark": true, "text": piece, "rule": rule])
            } else {
                result.append(["plain": true, "text": piece])
            }
            buffer = String.UnicodeScalarView()
        }
        for (i, scalar) in scalars.enumerated() {
            if isControl(scalar) {
                flush()
                result.append(["control": true, "text": controlLabel(scalar)])
                continue
            }
            if marked[i] != bufferRule { flush(); bufferRule = marked[i] }
            buffer.append(scalar)
        }
        flush()
        return result
    }

    /// A one-line preview: controls shown as tags, at most `length` characters.
    static func preview(_ text: String, length: Int = 140) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= length { out += "…"; break }
            if isControl(scalar) { out += "[" + controlLabel(scalar) + "]" } else if scalar == "\n" { out += " " } else { out.unicodeScalars.append(scalar) }
            count += 1
        }
        return out
    }

    /// "3 min", "2 h 5 min", "4 d 3 h".
    static func waited(since: Date, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(since)))
        if seconds < 60 { return "\(seconds) s" }
        let minutes = seconds / 60
        if minutes < 60 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours) h \(minutes % 60) min" }
        return "\(hours / 24) d \(hours % 24) h"
    }

    /// `value` percent-encoded for a query string.
    static func queryEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func time(_ date: Date) -> String { RFC3339.format(date) }
}

/// An `application/x-www-form-urlencoded` body or a query string: repeated names kept in order.
struct FormData {
    var pairs: [(String, String)] = []

    init(_ encoded: String) {
        for part in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            pairs.append((decode(pieces[0]), pieces.count > 1 ? decode(pieces[1]) : ""))
        }
    }

    subscript(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }
}
