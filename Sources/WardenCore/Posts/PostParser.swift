// Over 400 lines: one hand-written JSON reader for the post's shape (the measured reason is below); its states share one cursor.
/// Reads post files: one JSON object, or JSON Lines for batches.
///
/// A small reader written for the post's shape rather than `JSONDecoder`: decoding a
/// 250-byte post through `JSONDecoder` cost about 9 µs here, which alone would cap
/// `warden scan` near 100,000 posts/s; this reader takes under 1 µs. It validates the whole
/// document (structure, UTF-8, control characters), skips unknown fields iteratively so that
/// deeply nested input cannot exhaust the stack, and rejects duplicate keys among the fields
/// it reads, because a post whose text is ambiguous must not be judged on one reading and
/// shown with another.
public enum PostParser {
    /// Parses one post file.
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: PostLimits = PostLimits()) throws(PostError) -> Post {
        guard bytes.count <= limits.maxFileBytes else {
            throw PostError("file is \(bytes.count) bytes, over the limit of \(limits.maxFileBytes) bytes")
        }
        var reader = JSONReader(bytes.bindMemory(to: UInt8.self), maxDepth: limits.maxDepth)
        let post = try reader.readPost()
        return try checked(post, limits: limits)
    }

    /// Parses one post from a byte array.
    public static func parse(_ bytes: [UInt8], limits: PostLimits = PostLimits()) throws(PostError) -> Post {
        let result: Result<Post, PostError> = bytes.withUnsafeBytes { raw in
            Result { () throws(PostError) -> Post in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    /// Parses a post given as a string (tests, `warden explain`).
    public static func parse(_ text: String, limits: PostLimits = PostLimits()) throws(PostError) -> Post {
        try parse(Array(text.utf8), limits: limits)
    }

    /// Parses a JSON Lines batch: each non-blank line on its own; a bad line carries its line number.
    public static func parseLines(_ bytes: [UInt8], limits: PostLimits = PostLimits()) -> [Result<Post, PostError>] {
        var results: [Result<Post, PostError>] = []
        forEachLine(bytes) { lineNumber, line in
            do throws(PostError) {
                results.append(.success(try parse(line, limits: limits)))
            } catch {
                results.append(.failure(PostError(error.reason, line: lineNumber)))
            }
        }
        return results
    }

    /// Calls `body` with each non-blank line of a JSON Lines buffer (without its `\n` or
    /// `\r\n`) and its 1-based number. The one line splitter for whole buffers: the daemon's
    /// .jsonl files and the tools' files read at once.
    public static func forEachLine(_ bytes: [UInt8], _ body: (Int, UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { raw in
            var lineNumber = 0
            var start = 0
            let count = raw.count
            while start < count {
                lineNumber += 1
                var end = start
                while end < count && raw[end] != UInt8(ascii: "\n") { end += 1 }
                var trimmedEnd = end
                if trimmedEnd > start && raw[trimmedEnd - 1] == UInt8(ascii: "\r") { trimmedEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: raw[start..<trimmedEnd])
                if !isBlank(line) { body(lineNumber, line) }
                start = end + 1
            }
        }
    }

    /// A line of only spaces, tabs and carriage returns: skipped in JSON Lines input, by
    /// the daemon, `warden scan`, `diff` and `eval` alike.
    public static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private static func checked(_ post: Post, limits: PostLimits) throws(PostError) -> Post {
        guard Post.isValidID(post.id) else {
            throw PostError("\"id\" must be 1 to 128 characters of A-Z a-z 0-9 . _ : - and must not start with a dot; got \(quoted(post.id))")
        }
        guard !post.authorID.isEmpty, post.authorID.utf8.count <= 256 else {
            throw PostError("\"author.id\" must be 1 to 256 bytes long")
        }
        if post.text.utf8.count > limits.maxTextScalars {
            let scalars = post.text.unicodeScalars.count
            if scalars > limits.maxTextScalars {
                throw PostError("\"text\" is \(scalars) characters, over the limit of \(limits.maxTextScalars)")
            }
        }
        return post
    }

    static func quoted(_ s: String) -> String {
        let prefix = s.unicodeScalars.prefix(40)
        var out = "\""
        for scalar in prefix { out += scalar.escaped(asASCII: true) }
        return out + (s.unicodeScalars.count > 40 ? "…\"" : "\"")
    }
}

/// A forward-only JSON reader over UTF-8 bytes, specialised for post objects.
struct JSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private let maxDepth: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private func error(_ what: String) -> PostError {
        PostError("invalid JSON at byte \(position): \(what)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(PostError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else {
            throw error(position < bytes.count ? "expected \(what)" : "unexpected end of input, expected \(what)")
        }
        position += 1
    }

    private mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    mutating func readPost() throws(PostError) -> Post {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
        guard let first = peek() else { throw PostError("the file is empty") }
        guard first == UInt8(ascii: "{") else { throw PostError("a post must be a JSON object; the input starts with \(describe(first))") }
        var id: String?, platform: String?, authorID: String?, authorName: String?, text: String?
        var createdAt: String?, inReplyTo: String?, visibility: String?, type: String?, appealedPostID: String?
        // A bit per known key: a Set<String> here cost an allocation and two hashes per post.
        var seen: UInt16 = 0
        let known = ["id", "platform", "text", "created_at", "in_reply_to", "visibility", "author", "type", "post_id"]
        try readObject { (reader: inout JSONReader, key: String) throws(PostError) in
            guard let bit = known.firstIndex(of: key) else {
                try reader.skipValue()
                return
            }
            guard seen & (1 << bit) == 0 else { throw reader.error("duplicate key \"\(key)\"") }
            seen |= 1 << bit
            switch key {
            case "id": id = try reader.readString(field: "id")
            case "text": text = try reader.readString(field: "text")
            case "platform": platform = try reader.readOptionalString(field: "platform")
            case "created_at": createdAt = try reader.readOptionalString(field: "created_at")
            case "in_reply_to": inReplyTo = try reader.readOptionalString(field: "in_reply_to")
            case "visibility": visibility = try reader.readOptionalString(field: "visibility")
            // Read only when they are strings: other producers may use these names for their own data.
            case "type": if reader.peek() == UInt8(ascii: "\"") { type = try reader.readString(field: "type") } else { try reader.skipValue() }
            case "post_id": if reader.peek() == UInt8(ascii: "\"") { appealedPostID = try reader.readString(field: "post_id") } else { try reader.skipValue() }
            default:
                guard reader.peek() == UInt8(ascii: "{") else { throw PostError("\"author\" must be an object with an \"id\"") }
                var idSeen = false, nameSeen = false
                try reader.readObject { (inner: inout JSONReader, authorKey: String) throws(PostError) in
                    switch authorKey {
                    case "id":
                        guard !idSeen else { throw inner.error("duplicate key \"author.id\"") }
                        idSeen = true
                        authorID = try inner.readString(field: "author.id")
                    case "name":
                        guard !nameSeen else { throw inner.error("duplicate key \"author.name\"") }
                        nameSeen = true
                        authorName = try inner.readOptionalString(field: "author.name")
                    default:
                        try inner.skipValue()
                    }
                }
            }
        }
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected \(describe(bytes[position])) after the post object") }
        let appealOf = try Self.appealTarget(type: type, postID: appealedPostID)
        guard let id = id ?? appealOf.map(Post.appealID(of:)) else { throw PostError("missing required field \"id\"") }
        guard let authorID else { throw PostError("missing required field \"author.id\"") }
        guard let text else { throw PostError("missing required field \"text\"") }
        return Post(
            id: id, platform: platform, authorID: authorID, authorName: authorName, text: text,
            createdAt: createdAt, inReplyTo: inReplyTo, visibility: visibility, appealOf: appealOf)
    }

    /// The appealed post id when `type` is "appeal"; nil for anything else (a post: other
    /// values of `type` are the producer's own and are ignored like any unknown field).
    private static func appealTarget(type: String?, postID: String?) throws(PostError) -> String? {
        switch type {
        case "appeal":
            guard let postID else { throw PostError("an appeal needs \"post_id\", the id of the post whose decision it appeals") }
            guard Post.isValidID(postID), Post.isValidID(Post.appealID(of: postID)) else {
                throw PostError("\"post_id\" must be 1 to \(128 - Post.appealPrefix.count) characters of A-Z a-z 0-9 . _ : - and must not start with a dot; got \(PostParser.quoted(postID))")
            }
            return postID
        default:
            return nil
        }
    }

    private func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    /// Reads `{ "key": value, ... }`, handing each key to `body`, which must consume the value.
    private mutating func readObject(_ body: (inout JSONReader, String) throws(PostError) -> Void) throws(PostError) {
        try expect(UInt8(ascii: "{"), "'{'")
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let key = try readStringLiteral()
            try expect(UInt8(ascii: ":"), "':' after a key")
            try body(&self, key)
            guard let next = peek() else { throw error("unexpected end of input inside an object") }
            position += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw error("expected ',' or '}'") }
        }
    }

    private mutating func readString(field: String) throws(PostError) -> String {
        guard let next = peek() else { throw error("unexpected end of input") }
        guard next == UInt8(ascii: "\"") else { throw PostError("\"\(field)\" must be a string") }
        return try readStringLiteral()
    }

    private mutating func readOptionalString(field: String) throws(PostError) -> String? {
        if peek() == UInt8(ascii: "n") {
            try readLiteral("null")
            return nil
        }
        return try readString(field: field)
    }

    private mutating func readLiteral(_ word: StaticString) throws(PostError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end of input") }
        let ok = word.withUTF8Buffer { literal in
            (0..<count).allSatisfy { bytes[position + $0] == literal[$0] }
        }
        guard ok else { throw error("unknown literal") }
        position += count
    }

    /// Reads a string literal at `position` (which is at the opening quote).
    private mutating func readStringLiteral() throws(PostError) -> String {
        position += 1
        let start = position
        // Fast path: no escapes, so the bytes are the string.
        var high: UInt8 = 0
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                // ASCII needs no validation; String(validating:) costs a generic-metadata
                // lookup per call, which was 3% of `warden scan`.
                if high < 0x80 { return String(decoding: slice, as: UTF8.self) }
                guard let string = String(validating: slice, as: UTF8.self) else {
                    throw PostError("text is not valid UTF-8 (in the string starting at byte \(start))")
                }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) inside a string (it must be escaped)") }
            high |= byte
            position += 1
        }
        var buffer = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: buffer, as: UTF8.self) else {
                    throw PostError("text is not valid UTF-8 (in the string starting at byte \(start))")
                }
                return string
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try readHex4()
                    if (0xD800...0xDBFF).contains(code) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        if position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                            position += 2
                            let low = try readHex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            throw error("unpaired surrogate in \\u escape")
                        }
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    buffer.append(contentsOf: String(scalar).utf8)
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
            default:
                if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) inside a string (it must be escaped)") }
                buffer.append(byte)
            }
        }
        throw error("unterminated string")
    }

    private mutating func readHex4() throws(PostError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            position += 1
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Skips any JSON value without recursion; nesting deeper than `maxDepth` is an error.
    private mutating func skipValue() throws(PostError) {
        var depth = 0
        // Each entry: true for an object (keys expected), false for an array.
        var stack: [Bool] = []
        var expectingValue = true
        while true {
            guard let byte = peek() else { throw error("unexpected end of input") }
            if expectingValue {
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    guard depth <= maxDepth else { throw PostError("JSON is nested more than \(maxDepth) levels deep") }
                    let isObject = byte == UInt8(ascii: "{")
                    stack.append(isObject)
                    position += 1
                    let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    if peek() == closer {
                        position += 1
                        stack.removeLast()
                        depth -= 1
                        expectingValue = false
                    } else if isObject {
                        guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                        _ = try readStringLiteral()
                        try expect(UInt8(ascii: ":"), "':' after a key")
                    }
                    if stack.isEmpty && !expectingValue { return }
                    continue
                case UInt8(ascii: "\""):
                    _ = try readStringLiteral()
                case UInt8(ascii: "t"): try readLiteral("true")
                case UInt8(ascii: "f"): try readLiteral("false")
                case UInt8(ascii: "n"): try readLiteral("null")
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    try skipNumber()
                default:
                    throw error("unexpected \(describe(byte))")
                }
                expectingValue = false
                if stack.isEmpty { return }
            } else {
                guard let isObject = stack.last else { return }
                position += 1
                if byte == UInt8(ascii: ",") {
                    if isObject {
                        guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                        _ = try readStringLiteral()
                        try expect(UInt8(ascii: ":"), "':' after a key")
                    }
                    expectingValue = true
                } else if byte == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    stack.removeLast()
                    depth -= 1
                    if stack.isEmpty { return }
                } else {
                    position -= 1
                    throw error("expected ',' or '\(isObject ? "}" : "]")'")
                }
            }
        }
    }

    private mutating func skipNumber() throws(PostError) {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        var digits = 0
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"):
                position += 1
                digits += 1
            default:
                guard digits > 0 else { position = start; throw error("invalid number") }
                return
            }
        }
        guard digits > 0 else { throw error("invalid number") }
    }
}
