import Foundation

/// One post from the organisation's page, as the producer wrote it.
///
/// Only `id`, `authorID` and `text` are required; everything else is carried through so that
/// messages can greet the poster by name and decisions can be traced back to the platform.
public struct Post: Sendable, Equatable {
    public var id: String
    public var platform: String?
    public var authorID: String
    public var authorName: String?
    public var text: String
    /// As written by the producer (RFC 3339); parsed only when the daemon needs a time.
    public var createdAt: String?
    public var inReplyTo: String?
    public var visibility: String?
    /// For an appeal (`"type": "appeal"`): the id of the post whose decision is appealed.
    public var appealOf: String? = nil

    public init(
        id: String, platform: String? = nil, authorID: String, authorName: String? = nil, text: String,
        createdAt: String? = nil, inReplyTo: String? = nil, visibility: String? = nil, appealOf: String? = nil
    ) {
        self.appealOf = appealOf
        self.id = id
        self.platform = platform
        self.authorID = authorID
        self.authorName = authorName
        self.text = text
        self.createdAt = createdAt
        self.inReplyTo = inReplyTo
        self.visibility = visibility
    }

    /// An appeal's own id, derived from the appealed post's: one appeal per decision (a second
    /// appeal file for the same post is an edit of the first, not a new queue item).
    public static let appealPrefix = "appeal-"
    public static func appealID(of postID: String) -> String { appealPrefix + postID }

    /// Whether `id` may become a file name: 1–128 of `[A-Za-z0-9._:-]`, not starting with a dot.
    ///
    /// Ids are rejected, never sanitised: a sanitised id could collide with another post's.
    public static func isValidID(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard !utf8.isEmpty, utf8.count <= 128, utf8.first != UInt8(ascii: ".") else { return false }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: ":"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return true
    }
}

/// Bounds on what a single post may cost; posts beyond them go to `failed/`.
public struct PostLimits: Sendable, Equatable {
    /// Largest post file (or JSON Lines line) accepted, in bytes.
    public var maxFileBytes: Int
    /// Longest text accepted, in Unicode scalars.
    public var maxTextScalars: Int
    /// Deepest JSON nesting accepted; deeper input is rejected without recursion.
    public var maxDepth: Int

    public init(maxFileBytes: Int = 1 << 20, maxTextScalars: Int = 20_000, maxDepth: Int = 64) {
        self.maxFileBytes = maxFileBytes
        self.maxTextScalars = maxTextScalars
        self.maxDepth = maxDepth
    }
}

/// Why a post could not be judged, as a sentence for `failed/NAME.error`.
public struct PostError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    /// 1-based line in a JSON Lines file, when the post came from one.
    public var line: Int?

    public init(_ reason: String, line: Int? = nil) {
        self.reason = reason
        self.line = line
    }

    public var description: String {
        if let line { return "line \(line): \(reason)" }
        return reason
    }
}
