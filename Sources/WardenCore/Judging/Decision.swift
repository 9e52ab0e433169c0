import Foundation

/// One span of the original text that a rule matched. Offsets are Unicode scalars.
public struct MatchSpan: Sendable, Equatable {
    public var rule: String
    public var start: Int
    public var end: Int
    public var text: String

    public init(rule: String, start: Int, end: Int, text: String) {
        self.rule = rule
        self.start = start
        self.end = end
        self.text = text
    }
}

/// What Warden decided about one post: the action file of DESIGN.md, and a decisions.jsonl line.
public struct Decision: Sendable, Equatable {
    public var postID: String
    public var action: Action
    /// Broken guidelines (or, for a flag or route only, the guidelines that asked for it).
    public var guidelines: [String]
    /// Enforced rules that matched, strongest first.
    public var rules: [String]
    public var matches: [MatchSpan]
    public var message: String?
    public var publicNote: String?
    public var redactedText: String?
    /// The team to notify when a `route` rule matched, even if a stronger action won.
    public var routeTo: String?
    /// Rules in shadow mode that matched: logged, never enforced.
    public var shadowRules: [String]
    /// Why the post was held when PCRE2 gave up on a rule (match or depth limit).
    public var limitReasons: [String]
    /// Broken guidelines with `strikes: true`: the ledger records one strike each.
    public var strikeGuidelines: [String]
    /// Digest of the normalised text, for the repeat-post history.
    public var textDigest: UInt64
    public var authorID: String
    public var authorName: String?
    /// Set by the daemon after the ledger update.
    public var authorStrikes: Int?
    /// Set by the daemon: `hold_author` or `block_author`.
    public var escalation: Action?
    public var decidedAt: Date
    public var ruleset: String
    /// The post's text, set by the daemon for decisions.jsonl only (never in an action file):
    /// the review console shows and searches past posts from the log alone.
    public var postText: String? = nil
    /// Set when the "post" is a poster's appeal against the decision on this post id: it is
    /// logged for the review console, never judged against the rules.
    public var appealOf: String? = nil

    /// An appeal, logged as it came: not judged, no action, no strike (the review console
    /// shows it beside the appealed decision).
    public static func appeal(_ post: Post, appealing postID: String, at: Date, ruleset: String) -> Decision {
        Decision(postID: post.id, action: .allow, guidelines: [], rules: [], matches: [], message: nil, publicNote: nil,
                 redactedText: nil, routeTo: nil, shadowRules: [], limitReasons: [], strikeGuidelines: [], textDigest: 0,
                 authorID: post.authorID, authorName: post.authorName, authorStrikes: nil, escalation: nil, decidedAt: at,
                 ruleset: ruleset, postText: post.text, appealOf: postID)
    }

    /// Whether the post needs an action file in the outbox.
    public var needsActionFile: Bool { action != .allow || escalation != nil }

    /// The action file: one JSON object and a newline.
    public func actionFileJSON() -> [UInt8] {
        var bytes = json()
        bytes.append(0x0A)
        return bytes
    }

    /// One line of decisions.jsonl or `warden scan` output, without the newline.
    public func logLineJSON() -> [UInt8] { json(logged: true) }

    /// The decision as one JSON object, with the field names of the action file; `logged`
    /// adds what only decisions.jsonl carries (`type`, `appeal_of`, `text`).
    public func json(logged: Bool = false) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        if logged, let appealOf { w.key("type"); w.string("appeal"); w.key("appeal_of"); w.string(appealOf) }
        w.key("post_id"); w.string(postID)
        w.key("action"); w.string(action.rawValue)
        w.key("guidelines"); w.stringArray(guidelines)
        w.key("rules"); w.stringArray(rules)
        w.key("matches")
        w.beginArray()
        for match in matches {
            w.beginObject()
            w.key("rule"); w.string(match.rule)
            w.key("start"); w.int(match.start)
            w.key("end"); w.int(match.end)
            w.key("text"); w.string(match.text)
            w.endObject()
        }
        w.endArray()
        if let message { w.key("message"); w.string(message) }
        if let publicNote { w.key("public_note"); w.string(publicNote) }
        if let redactedText { w.key("redacted_text"); w.string(redactedText) }
        if let routeTo { w.key("route_to"); w.string(routeTo) }
        if !shadowRules.isEmpty { w.key("shadow_rules"); w.stringArray(shadowRules) }
        if !limitReasons.isEmpty { w.key("held_because"); w.stringArray(limitReasons) }
        w.key("author")
        w.beginObject()
        w.key("id"); w.string(authorID)
        if let authorName { w.key("name"); w.string(authorName) }
        w.key("strikes")
        if let authorStrikes { w.int(authorStrikes) } else { w.null() }
        w.key("escalation")
        if let escalation { w.string(escalation.rawValue) } else { w.null() }
        w.endObject()
        w.key("decided_at"); w.string(Timestamp.iso8601(decidedAt))
        w.key("ruleset"); w.string(ruleset)
        if logged, let postText { w.key("text"); w.string(postText) }
        w.endObject()
        return w.bytes
    }
}

/// A minimal JSON writer: decisions are written for every post, so encoding must cost
/// little more than copying the bytes (Foundation's JSONEncoder took about 15 µs per decision).
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init() { bytes.reserveCapacity(512) }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    public mutating func key(_ key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separator()
        JSONWriter.appendQuoted(value, to: &bytes)
        needsComma = true
    }

    public mutating func stringArray(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    public mutating func int(_ value: Int) {
        separator()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func double(_ value: Double, decimals: Int = 4) {
        separator()
        bytes.append(contentsOf: (value.isFinite ? String(format: "%.\(decimals)f", value) : "null").utf8)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separator()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separator()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// Appends `value` as a JSON string literal.
    public static func appendQuoted(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Most strings need no escaping: copy them whole rather than byte by byte.
            var clean = 0
            while clean < utf8.count {
                let byte = utf8[clean]
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { break }
                clean += 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[0..<clean]))
            for byte in utf8[clean...] {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
                case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
                case 0..<0x20:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0xF)])
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// RFC 3339 UTC time stamps without Foundation's formatter, which is slow and not Sendable.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Written digit by digit: string interpolation here was 2% of `warden scan`.
        var out = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int32, _ at: Int, _ width: Int) {
            var value = value
            for k in stride(from: at + width - 1, through: at, by: -1) {
                out[k] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(parts.tm_year + 1900, 0, 4)
        out[4] = UInt8(ascii: "-")
        put(parts.tm_mon + 1, 5, 2)
        out[7] = UInt8(ascii: "-")
        put(parts.tm_mday, 8, 2)
        out[10] = UInt8(ascii: "T")
        put(parts.tm_hour, 11, 2)
        out[13] = UInt8(ascii: ":")
        put(parts.tm_min, 14, 2)
        out[16] = UInt8(ascii: ":")
        put(parts.tm_sec, 17, 2)
        out[19] = UInt8(ascii: "Z")
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `2026-11-22T10:00:00Z` (and offsets such as `+01:00`, fractional seconds); nil if it is not RFC 3339.
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
