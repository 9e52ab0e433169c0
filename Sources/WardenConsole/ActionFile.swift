import Foundation
import WardenCore
import Glibc

/// A moderator's decision on a post, as the action file the connector consumes
/// (DESIGN.md "Review"): `outbox/POST-ID.json`, replacing any unconsumed one, with a
/// `review` block naming the moderator, the time and the reason.
public struct ReviewActionFile: Sendable, Equatable {
    public var postID: String
    /// `allow` (put back up), `hide` or `delete`.
    public var action: String
    public var guidelines: [String]
    public var rules: [String]
    public var message: String?
    public var authorID: String
    public var authorName: String?
    public var moderator: String
    public var at: Date
    public var reason: String
    /// `released`, `removed`, `appeal_upheld`, `appeal_overturned`, `restored`, `missed`.
    public var outcome: String
    /// For an appeal's outcome: the appeal's own id.
    public var appealID: String?

    public func json() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("post_id"); w.string(postID)
        w.key("action"); w.string(action)
        w.key("guidelines"); w.stringArray(guidelines)
        w.key("rules"); w.stringArray(rules)
        if let message { w.key("message"); w.string(message) }
        w.key("author")
        w.beginObject()
        w.key("id"); w.string(authorID)
        if let authorName { w.key("name"); w.string(authorName) }
        w.endObject()
        w.key("decided_at"); w.string(RFC3339.format(at))
        w.key("review")
        w.beginObject()
        w.key("moderator"); w.string(moderator)
        w.key("at"); w.string(RFC3339.format(at))
        w.key("reason"); w.string(reason)
        w.key("outcome"); w.string(outcome)
        if let appealID { w.key("appeal_id"); w.string(appealID) }
        w.endObject()
        w.endObject()
        return w.bytes + [0x0A]
    }
}

/// Writes action files into the daemon's outbox the way the daemon does: a dot-file, fsync,
/// rename over `POST-ID.json`, fsync of the directory. Connectors never see half a file, and
/// a file that replaced an unconsumed one is the only one left.
public struct OutboxWriter: Sendable {
    public let outbox: String

    public init(outbox: String) { self.outbox = outbox }

    public func write(_ file: ReviewActionFile) throws {
        guard Post.isValidID(file.postID) else { throw ConsoleError("refusing to write an action file for the invalid post id \(file.postID)") }
        let final = "\(outbox)/\(file.postID).json"
        let temporary = "\(outbox)/.\(file.postID).json.review-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw ConsoleError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = file.json()
        var written = 0
        var failure: String?
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + written }, bytes.count - written) }
            if n < 0 { if errno == EINTR { continue }; failure = "write"; break }
            written += n
        }
        if failure == nil && fsync(fd) != 0 { failure = "fsync" }
        close(fd)
        if failure == nil && rename(temporary, final) != 0 { failure = "rename" }
        if let failure {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ConsoleError("cannot \(failure) the action file \(final): \(reason)")
        }
        let directory = open(outbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 { fsync(directory); close(directory) }
    }
}

/// An error a moderator or an operator can act on, as one sentence.
public struct ConsoleError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
