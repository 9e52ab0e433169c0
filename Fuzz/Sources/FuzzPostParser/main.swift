import CFuzzerDriver
import Foundation
import WardenCore

/// Feeds raw bytes to the post reader, both as one post file and as a JSON Lines batch.
///
/// Beyond "never crash", a post that parses must survive a round trip: written back as JSON
/// by `encode` and read again, it must come back field for field. That catches a string
/// reader that drops or mangles an escape, which a crash-only target never would.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Small limits as well as the defaults, so the limit checks are reached by short inputs.
    let small = PostLimits(maxFileBytes: 512, maxTextScalars: 40, maxDepth: 4)
    for limits in [PostLimits(), small] {
        if let post = try? PostParser.parse(bytes, limits: limits) {
            check(post, limits: limits)
        }
        for case .success(let post) in PostParser.parseLines(bytes, limits: limits) {
            check(post, limits: limits)
        }
    }
    return 0
}

private func check(_ post: Post, limits: PostLimits) {
    precondition(Post.isValidID(post.id), "accepted an invalid id")
    precondition(!post.authorID.isEmpty, "accepted an empty author id")
    precondition(post.text.unicodeScalars.count <= limits.maxTextScalars, "accepted a text over the limit")
    let json = encode(post)
    let again: Post
    do {
        again = try PostParser.parse(json, limits: PostLimits(maxFileBytes: 1 << 24, maxTextScalars: limits.maxTextScalars))
    } catch {
        preconditionFailure("a parsed post does not parse again: \(error) in \(json)")
    }
    precondition(again == post, "round trip changed the post: \(post) became \(again)")
}

/// JSON for a post, escaping every control character and a random-looking mix of the rest
/// as `\u` so that both of the reader's string paths are exercised on the way back.
private func encode(_ post: Post) -> String {
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

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
