import Foundation
import WardenCore

/// What each fuzz target checks, in one place: the libFuzzer targets in Fuzz/ trap on a
/// problem, and FuzzRegressionTests replays every kept corpus input through the same checks
/// so that CI, which has no libFuzzer, checks them too. Each check returns the first broken
/// property as a sentence, or nil.
///
/// A library of its own, not part of WardenCore: the `warden` binary never links it.
public enum FuzzChecks {}

// MARK: Post parser

extension FuzzChecks {
    /// Raw bytes as one post file and as a JSON Lines batch, with the default limits and with
    /// small ones (so the limit checks are reached by short inputs). A post that parses must
    /// survive a round trip through `encode`; a refused one carries a reason, and a refused
    /// JSON Lines line its number. That catches a string reader that drops or mangles an
    /// escape, which a crash-only target never would.
    public static func postParserProblem(_ bytes: [UInt8]) -> String? {
        let small = PostLimits(maxFileBytes: 512, maxTextScalars: 40, maxDepth: 4)
        for limits in [PostLimits(), small] {
            switch Result(catching: { () throws(PostError) -> Post in try PostParser.parse(bytes, limits: limits) }) {
            case .success(let post):
                if let problem = roundTripProblem(post, limits: limits) { return problem }
            case .failure(let error):
                if error.reason.isEmpty { return "a post was refused without a reason" }
            }
            for result in PostParser.parseLines(bytes, limits: limits) {
                switch result {
                case .success(let post):
                    if let problem = roundTripProblem(post, limits: limits) { return problem }
                case .failure(let error):
                    if error.line == nil { return "a bad JSON Lines line was refused without its number: \(error.reason)" }
                }
            }
        }
        return nil
    }

    private static func roundTripProblem(_ post: Post, limits: PostLimits) -> String? {
        if !Post.isValidID(post.id) { return "accepted an invalid id \(post.id.debugDescription)" }
        if post.authorID.isEmpty { return "accepted an empty author id" }
        if post.text.unicodeScalars.count > limits.maxTextScalars { return "accepted a text over the limit" }
        let json = encode(post)
        do {
            let again = try PostParser.parse(json, limits: PostLimits(maxFileBytes: 1 << 24, maxTextScalars: limits.maxTextScalars))
            return again == post ? nil : "round trip changed the post: \(post) became \(again)"
        } catch {
            return "a parsed post does not parse again: \(error) in \(json)"
        }
    }

    /// JSON for a post, escaping every control character and every astral scalar as `\u`
    /// so that both of the reader's string paths are exercised on the way back.
    static func encode(_ post: Post) -> String {
        func string(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += "\\u" + String(0xD800 + (v >> 10), radix: 16) + "\\u" + String(0xDC00 + (v & 0x3FF), radix: 16)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        func optional(_ s: String?) -> String { s.map(string) ?? "null" }
        return """
            {"id":\(string(post.id)),"platform":\(optional(post.platform)),"author":{"id":\(string(post.authorID)),\
            "name":\(optional(post.authorName))},"text":\(string(post.text)),"created_at":\(optional(post.createdAt)),\
            "in_reply_to":\(optional(post.inReplyTo)),"visibility":\(optional(post.visibility))}
            """
    }
}

// MARK: Normaliser

extension FuzzChecks {
    /// A long-lived normaliser, as a worker keeps one, checked against a fresh one: stale
    /// scratch buffers or a wrong cache entry from an earlier input show up as a difference.
    public struct NormalizerCheck {
        private var worker = Normalizer()
        private var reused = NormalizedText()

        public init() {}

        /// Normalises `bytes` (invalid UTF-8 is repaired, as posts reach the normaliser as
        /// Strings) and checks that the offset map never points outside the poster's text:
        /// masking and action-file offsets are computed from it.
        public mutating func problem(_ bytes: [UInt8]) -> String? {
            let text = String(decoding: bytes, as: UTF8.self)
            worker.normalize(text, into: &reused)
            var fresh = Normalizer()
            let once = fresh.normalize(text)
            if reused.bytes != once.bytes { return "a reused normaliser disagrees with a fresh one" }
            if reused.scalarStart != once.scalarStart || reused.scalarEnd != once.scalarEnd { return "a reused normaliser's offsets differ" }
            _ = Normalizer.normalizeEntry(text)
            return FuzzChecks.offsetProblem(once, scalarCount: text.unicodeScalars.count)
        }
    }

    /// The first broken invariant of an offset map, or nil: every byte range for short
    /// outputs, a deterministic sample of them for long ones.
    public static func offsetProblem(_ normalized: NormalizedText, scalarCount: Int) -> String? {
        let n = normalized.bytes.count
        guard normalized.scalarStart.count == n, normalized.scalarEnd.count == n else { return "offset arrays and bytes differ in length" }
        if String(validating: normalized.bytes, as: UTF8.self) == nil { return "output is not valid UTF-8" }
        var previousStart: Int32 = 0, previousEnd: Int32 = 0
        for k in 0..<n {
            let start = normalized.scalarStart[k], end = normalized.scalarEnd[k]
            if start < 0 || Int(start) > scalarCount || end < 0 || Int(end) > scalarCount {
                return "byte \(k) maps to \(start)..<\(end), outside 0...\(scalarCount)"
            }
            if start > end { return "byte \(k): start \(start) after end \(end)" }
            // `originalRange(ofBytes:)` takes the last byte's end as the furthest; that needs this.
            if start < previousStart || end < previousEnd { return "byte \(k): offsets go backwards" }
            previousStart = start
            previousEnd = end
        }
        let step = max(1, n / 64)
        var lower = 0
        while lower <= n + 1 {
            var upper = lower
            while upper <= n + 1 {
                let range = normalized.originalRange(ofBytes: lower..<upper)
                if range.lowerBound < 0 || range.upperBound > scalarCount {
                    return "bytes \(lower)..<\(upper) map to \(range), outside 0..<\(scalarCount)"
                }
                upper += upper < lower + 4 ? 1 : step
            }
            lower += lower < 4 ? 1 : step
        }
        return nil
    }
}

// MARK: Message templates

extension FuzzChecks {
    /// What `Judge` hands a template, with fixed values.
    nonisolated(unsafe) public static let templateContext: [String: Any] = [
        "author": ["name": "Sam", "id": "u-1"],
        "guideline": ["id": "profanity", "title": "No profanity", "url": "https://example.org/g#p", "text": "Keep it clean."],
        "guidelines": [
            ["id": "profanity", "title": "No profanity", "url": "https://example.org/g#p", "text": "Keep it clean."],
            ["id": "spam", "title": "No spam", "url": "https://example.org/g#s", "text": "No adverts.", "last": true],
        ],
        "redacted_text": "what the **** & <b>",
        "org": ["name": "Example", "contact": "mods@example.org"],
        "action": "delete",
        "action_past": "deleted",
        "post": ["id": "fb-1", "platform": "facebook"],
        "rule": ["id": "profanity.strong"],
        "route_to": "",
    ]

    /// A template compiles or reports located problems (never both, never neither), and one
    /// that compiles renders without trapping. Input that is not UTF-8 is skipped.
    public static func templateProblem(_ bytes: [UInt8]) -> String? {
        guard let source = String(validating: bytes, as: UTF8.self) else { return nil }
        let compiled = MessageTemplate.compile(source)
        if (compiled.template == nil) != !compiled.problems.isEmpty { return "a template both compiled and had problems, or neither" }
        if let bad = compiled.problems.first(where: { $0.line < 1 || $0.column < 1 }) {
            return "problem reported at line \(bad.line) column \(bad.column)"
        }
        _ = compiled.template?.render(templateContext)
        return nil
    }
}
