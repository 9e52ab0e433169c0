import Foundation

/// Masking of personal data (card numbers, IBANs, passwords, emails, phone numbers, and
/// whatever the `personal-data` guideline's rules match) in what Warden keeps at rest:
/// decisions.jsonl and the copy of a post in done/. docs/DAEMON.md, "What is kept where".
public enum PersonalData {
    /// The guideline whose rules' matches count as personal data, besides detectors.
    public static let guideline = "personal-data"

    /// Every scalar but spaces replaced with `*`, so the shape (a card's grouping) stays
    /// visible to a moderator reading the log, and nothing of the value does.
    public static func mask(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == " " ? " " : "*" }))
    }

    /// `text` with the scalar ranges in `spans` masked.
    public static func mask(_ text: String, spans: [Range<Int>]) -> String {
        guard !spans.isEmpty else { return text }
        var scalars = Array(text.unicodeScalars)
        for span in spans {
            let lower = max(0, min(span.lowerBound, scalars.count)), upper = max(lower, min(span.upperBound, scalars.count))
            for index in lower..<upper where scalars[index] != " " { scalars[index] = "*" }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    /// `post` as a post file (JSON, the fields Warden reads), its text masked: what done/
    /// keeps of a post that held personal data.
    public static func maskedPostJSON(_ post: Post, spans: [Range<Int>]) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.string(post.id)
        if let platform = post.platform { w.key("platform"); w.string(platform) }
        w.key("author")
        w.beginObject()
        w.key("id"); w.string(post.authorID)
        if let name = post.authorName { w.key("name"); w.string(name) }
        w.endObject()
        w.key("text"); w.string(mask(post.text, spans: spans))
        if let createdAt = post.createdAt { w.key("created_at"); w.string(createdAt) }
        if let inReplyTo = post.inReplyTo { w.key("in_reply_to"); w.string(inReplyTo) }
        if let visibility = post.visibility { w.key("visibility"); w.string(visibility) }
        w.key("personal_data_masked"); w.bool(true)
        w.endObject()
        return w.bytes
    }
}
