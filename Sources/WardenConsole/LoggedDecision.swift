import Foundation
import WardenCore

/// One line of decisions.jsonl as the console reads it back: the daemon's decision (action
/// file fields) plus the post's text, or an appeal (`"type": "appeal"`).
public struct LoggedDecision: Sendable, Equatable {
    public struct Span: Sendable, Equatable {
        public var rule: String
        public var start: Int
        public var end: Int
    }

    public var postID: String
    /// Set for an appeal: the post whose decision is appealed.
    public var appealOf: String?
    public var action: String
    public var escalation: String?
    public var guidelines: [String]
    public var rules: [String]
    public var matches: [Span]
    public var message: String?
    public var publicNote: String?
    public var redactedText: String?
    public var heldBecause: [String]
    public var authorID: String
    public var authorName: String?
    public var authorStrikes: Int?
    public var decidedAt: Date
    /// The digest of the rules the daemon judged with (`sha256:…`); nil in a line without one.
    public var ruleset: String?
    public var text: String
    /// The line as logged, for "decision JSON on demand".
    public var line: String

    public var isAppeal: Bool { appealOf != nil }

    /// Whether the post waits for a moderator: held by a rule, by the author's escalation
    /// (`hold_author`), or because a rule hit a PCRE2 limit.
    public var isHeld: Bool { !isAppeal && (action == "hold" || escalation == "hold_author" || !heldBecause.isEmpty) }

    /// Whether the post was taken out of public view by the daemon.
    public var isSanction: Bool { ["hold", "hide", "delete"].contains(action) || escalation == "hold_author" || escalation == "block_author" }

    /// Parses one logged line; nil for a line that is not a decision (never expected: the
    /// daemon writes whole lines, but the console must not stop on one bad line).
    public static func parse(_ line: String) -> LoggedDecision? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let postID = object["post_id"] as? String, let action = object["action"] as? String,
              let author = object["author"] as? [String: Any], let authorID = author["id"] as? String else { return nil }
        let matches = (object["matches"] as? [[String: Any]] ?? []).compactMap { match -> Span? in
            guard let rule = match["rule"] as? String, let start = match["start"] as? Int, let end = match["end"] as? Int else { return nil }
            return Span(rule: rule, start: start, end: end)
        }
        let decidedAt = (object["decided_at"] as? String).flatMap(RFC3339.parse) ?? Date(timeIntervalSince1970: 0)
        return LoggedDecision(
            postID: postID, appealOf: object["appeal_of"] as? String, action: action,
            escalation: author["escalation"] as? String, guidelines: object["guidelines"] as? [String] ?? [],
            rules: object["rules"] as? [String] ?? [], matches: matches, message: object["message"] as? String,
            publicNote: object["public_note"] as? String, redactedText: object["redacted_text"] as? String,
            heldBecause: object["held_because"] as? [String] ?? [], authorID: authorID, authorName: author["name"] as? String,
            authorStrikes: author["strikes"] as? Int, decidedAt: decidedAt, ruleset: object["ruleset"] as? String, text: object["text"] as? String ?? "", line: line)
    }
}
