/// The figures `when` conditions test (link count, share of capitals, repeated characters),
/// measured over the original text because normalisation lowercases and collapses exactly
/// what these conditions look at.
public struct TextStats: Sendable, Equatable {
    /// Length in Unicode scalars, the unit offsets are reported in.
    public var scalars: Int
    /// Letters in any script (Unicode alphabetic).
    public var letters: Int
    /// Uppercase letters in any script.
    public var uppercase: Int
    /// http:// and https:// URLs, www. addresses, and bare domains like bit.ly/x or example.com.
    public var links: Int
    /// @name tokens; the '@' of an email address is not a mention.
    public var mentions: Int
    /// Longest run of one repeated visible character ("!!!!!!", "nooooo"); whitespace runs
    /// are not counted, since indentation and blank lines are not shouting.
    public var longestRun: Int
    /// Share of letters that are capitals, for "ALL CAPS" rules; 0 for a text with no letters.
    public var capsRatio: Double { letters == 0 ? 0 : Double(uppercase) / Double(letters) }

    /// A zero value, the starting point for `measure`.
    public init(
        scalars: Int = 0, letters: Int = 0, uppercase: Int = 0, links: Int = 0, mentions: Int = 0,
        longestRun: Int = 0
    ) {
        self.scalars = scalars
        self.letters = letters
        self.uppercase = uppercase
        self.links = links
        self.mentions = mentions
        self.longestRun = longestRun
    }

    /// Measures a post's UTF-8 text in one pass over the bytes (ASCII is handled without
    /// decoding; non-ASCII scalars are decoded to ask Unicode whether they are letters).
    public static func measure(_ utf8: UnsafeBufferPointer<UInt8>) -> TextStats {
        var stats = TextStats()
        let text = Bytes(utf8)
        let n = text.count
        var i = 0
        var runScalar: UInt32 = 0xFFFF_FFFF
        var run = 0
        // Index up to which a link was already counted, so "https://www.example.com/a.b" is one.
        var linkedUntil = 0
        while i < n {
            let lead = text[i]
            var value = UInt32(lead)
            var length = 1
            if lead < 0x80 {
                if i >= linkedUntil, isWordStart(text, i) {
                    if let end = linkEnd(text, at: i) {
                        stats.links += 1
                        linkedUntil = end
                    } else if lead == UInt8(ascii: "@"), i + 1 < n, isHandleByte(text[i + 1]) {
                        stats.mentions += 1
                    }
                }
                // Letters inside links do not count: "DOWNLOAD NOW https://x.example/abc" is shouting.
                if isASCIILetter(lead), i >= linkedUntil {
                    stats.letters += 1
                    if lead < 0x61 { stats.uppercase += 1 }
                }
            } else {
                (value, length) = decodeScalar(text, at: i)
                if let scalar = Unicode.Scalar(value) {
                    let props = scalar.properties
                    if props.isAlphabetic {
                        stats.letters += 1
                        if props.isUppercase { stats.uppercase += 1 }
                    }
                }
            }
            stats.scalars += 1
            if isWhitespace(value) {
                run = 0
                runScalar = 0xFFFF_FFFF
            } else if value == runScalar {
                run += 1
            } else {
                runScalar = value
                run = 1
            }
            if run > stats.longestRun { stats.longestRun = run }
            i += length
        }
        return stats
    }

    private static func isWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F,
            0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    private static func decodeScalar(_ text: Bytes, at i: Int) -> (UInt32, Int) {
        let lead = text[i]
        let n = text.count
        func continuation(_ k: Int) -> UInt32 { k < n ? UInt32(text[k] & 0x3F) : 0 }
        if lead < 0xE0 {
            return ((UInt32(lead & 0x1F) << 6) | continuation(i + 1), min(2, n - i))
        }
        if lead < 0xF0 {
            return (
                (UInt32(lead & 0x0F) << 12) | (continuation(i + 1) << 6) | continuation(i + 2),
                min(3, n - i)
            )
        }
        return (
            (UInt32(lead & 0x07) << 18) | (continuation(i + 1) << 12) | (continuation(i + 2) << 6)
                | continuation(i + 3),
            min(4, n - i)
        )
    }

    private static func isHandleByte(_ b: UInt8) -> Bool { isASCIIAlnum(b) || b == UInt8(ascii: "_") }

    /// Links and mentions start a word: not glued to letters, digits or the local part of an
    /// email ("bob.smith@example.com" holds no mention and one address, not a link).
    private static func isWordStart(_ text: Bytes, _ i: Int) -> Bool {
        guard i > 0 else { return true }
        let previous = text[i - 1]
        return !(isASCIIAlnum(previous) || previous == UInt8(ascii: "_") || previous == UInt8(ascii: ".")
            || previous == UInt8(ascii: "@") || previous == UInt8(ascii: "-")
            || previous == UInt8(ascii: "/") || previous >= 0x80)
    }

    /// End of a link starting at `i`, or nil. Scheme and www. links run to the next space;
    /// bare domains need a known TLD or a following path so "e.g." and "3.14" are not links.
    private static func linkEnd(_ text: Bytes, at i: Int) -> Int? {
        let lead = text[i] | 0x20
        if (lead == UInt8(ascii: "h") || lead == UInt8(ascii: "w"))
            && (text.hasPrefixIgnoringCase(httpPrefix, at: i) || text.hasPrefixIgnoringCase(httpsPrefix, at: i)
                || text.hasPrefixIgnoringCase(wwwPrefix, at: i))
        {
            var k = i
            while k < text.count, text[k] > 0x20 { k += 1 }
            return k
        }
        guard isASCIIAlnum(text[i]) else { return nil }
        // A bare domain's first label ends at a dot: most words do not, and need no more look.
        var labelEnd = i + 1
        while labelEnd < text.count, isASCIIAlnum(text[labelEnd]) || text[labelEnd] == UInt8(ascii: "-") { labelEnd += 1 }
        guard labelEnd < text.count, text[labelEnd] == UInt8(ascii: ".") else { return nil }
        guard let domainEnd = Detectors.domainEnd(text, from: i) else { return nil }
        // The same label(.label)+ scan as the email detector's; the last label is the TLD.
        var k = domainEnd
        var tldStart = domainEnd
        while tldStart > i, text[tldStart - 1] != UInt8(ascii: ".") { tldStart -= 1 }
        let lastLabel = tldStart..<domainEnd
        if k < text.count, text[k] == UInt8(ascii: "@") { return nil }  // an email's local part
        let hasPath = k < text.count && text[k] == UInt8(ascii: "/")
        let tld = String(decoding: lastLabel.map { text[$0] | 0x20 }, as: UTF8.self)
        guard hasPath ? lastLabel.count >= 2 : knownTLDs.contains(tld) else { return nil }
        while k < text.count, text[k] > 0x20 { k += 1 }
        return k
    }

    // Built once: building them per call was a third of `warden scan`'s time.
    private static let httpPrefix = Array("http://".utf8)
    private static let httpsPrefix = Array("https://".utf8)
    private static let wwwPrefix = Array("www.".utf8)

    /// TLDs common in spam and everyday links. A bare "word.word" with another ending is far
    /// more often a typo'd missing space ("great.thanks") than a link.
    private static let knownTLDs: Set<String> = [
        "com", "net", "org", "info", "biz", "io", "co", "ly", "me", "tv", "gl", "gg", "app", "dev",
        "xyz", "ru", "de", "uk", "fr", "es", "it", "nl", "eu", "us", "ca", "au", "in", "cn", "jp",
        "br", "pl", "ch", "se", "no", "fi", "dk", "be", "at", "cz", "ie", "nz", "za", "mx", "ar",
        "tk", "ml", "ga", "cf", "gq", "top", "site", "online", "club", "shop", "store", "live",
        "link", "click", "win", "bet", "vip", "loan", "work", "su", "to", "cc", "ws", "gov",
        "edu", "ai", "sh", "gd", "vc", "ms", "ua", "tr", "kr", "id", "my", "sg", "ph", "vn", "th",
    ]
}
