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

    /// Spans of the original text (Unicode scalars) holding personal data: what a detector
    /// found, and what rules of the `personal-data` guideline matched. Masked in
    /// decisions.jsonl and in the copy of the post kept in done/; never written anywhere.
    public var personalData: [Range<Int>] = []

    /// Whether the post needs an action file in the outbox.
    public var needsActionFile: Bool { action != .allow || escalation != nil }

    /// The action file: one JSON object and a newline.
    public func actionFileJSON() -> [UInt8] {
        var bytes = json()
        bytes.append(0x0A)
        return bytes
    }

    /// One line of decisions.jsonl or `warden scan` output, without the newline: the
    /// decision with the text of every match on personal data masked (decisions.jsonl is
    /// kept for weeks; the action file, read once by the consumer, keeps it), plus what only
    /// the log carries (`type`, `appeal_of`, `text`, the text masked the same way).
    public func logLineJSON() -> [UInt8] { json(logged: true, maskingPersonalData: true) }

    /// The decision as one JSON object, with the field names of the action file.
    public func json(logged: Bool = false, maskingPersonalData: Bool = false) -> [UInt8] {
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
            w.key("text")
            if maskingPersonalData && personalData.contains(where: { $0.overlaps(match.start..<match.end) }) {
                w.string(PersonalData.mask(match.text))
            } else {
                w.string(match.text)
            }
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
        w.key("decided_at"); w.string(RFC3339.format(decidedAt))
        w.key("ruleset"); w.string(ruleset)
        if logged, let postText {
            w.key("text")
            w.string(maskingPersonalData && !personalData.isEmpty ? PersonalData.mask(postText, spans: personalData) : postText)
        }
        w.endObject()
        return w.bytes
    }
}
