/// A post with the labels a person gave it, for measuring rules (`warden eval`).
public struct LabelledPost: Sendable {
    public var post: Post
    public var labels: Set<String>
}

extension PostParser {
    /// Parses a labelled line: `{"id", "text", "labels": [...]}`, `author` optional.
    ///
    /// Labelled sets come from elsewhere (public datasets) and rarely carry authors, so a
    /// missing author gets a placeholder; ids that are not file-name safe are kept, since
    /// nothing is written under them.
    public static func parseLabelled(_ line: UnsafeRawBufferPointer) throws(PostError) -> LabelledPost {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line), options: [])
        } catch {
            throw PostError("invalid JSON: \(error.localizedDescription)")
        }
        guard let dictionary = object as? [String: Any] else { throw PostError("a labelled post must be a JSON object") }
        guard let text = dictionary["text"] as? String else { throw PostError("missing required field \"text\"") }
        let id: String
        switch dictionary["id"] {
        case let string as String: id = string
        case let number as NSNumber: id = number.stringValue
        default: throw PostError("missing required field \"id\"")
        }
        guard let labels = dictionary["labels"] as? [String] else { throw PostError("missing \"labels\" (a list, [] for clean)") }
        let author = dictionary["author"] as? [String: Any]
        let post = Post(
            id: id, platform: dictionary["platform"] as? String, authorID: (author?["id"] as? String) ?? "eval-\(id)",
            authorName: author?["name"] as? String, text: text)
        return LabelledPost(post: post, labels: Set(labels))
    }
}

import Foundation
