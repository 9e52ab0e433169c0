/// Finds the literal text every match of a pattern must start with.
///
/// This is how Warden avoids running every pattern on every post. Each pattern's possible
/// leading literals ("check", "subscribe", "where is my") go into one prefix tree that is
/// scanned once per post; a pattern runs only if one of its literals occurs, and only from
/// the first place it occurs. With the shipped rules, running all 107 patterns one after
/// another cost about 65 µs a post, and one alternation of all of them even more (PCRE2 tries
/// every branch at every position), which is why neither is used.
///
/// The extraction is conservative: it understands literals, escaped punctuation, groups and
/// alternations, and skips what cannot consume text at the start (`\b`, `^`, `\A`, option
/// settings, lookarounds). Anything else (a character class, `.`, an optional first item)
/// gives up, and the pattern then runs on every post: correctness never depends on it.
enum LiteralPrefixes {
    /// The set of literal prefixes, lowercased, or nil when none can be proven.
    static func extract(_ pattern: String) -> Set<String>? {
        var parser = Parser(Array(pattern.unicodeScalars))
        guard let prefixes = parser.alternation(depth: 0), parser.atEnd || parser.peek == ")" else { return nil }
        guard !prefixes.isEmpty, prefixes.allSatisfy({ !$0.isEmpty }) else { return nil }
        return Set(prefixes.map { $0.lowercased() })
    }

    private struct Parser {
        let chars: [Unicode.Scalar]
        var index = 0
        var extended = false

        init(_ chars: [Unicode.Scalar]) { self.chars = chars }

        var atEnd: Bool { index >= chars.count }
        var peek: Unicode.Scalar? { index < chars.count ? chars[index] : nil }

        func peek(_ offset: Int) -> Unicode.Scalar? { index + offset < chars.count ? chars[index + offset] : nil }

        /// `a|b|c` up to a closing parenthesis or the end; each branch's prefixes.
        mutating func alternation(depth: Int) -> [String]? {
            guard depth < 16 else { return nil }
            var all: [String] = []
            while true {
                guard let branch = sequence(depth: depth) else { return nil }
                all += branch
                // Skip the rest of this branch: only its start matters.
                guard skipToBranchEnd() else { return nil }
                if peek == "|" {
                    index += 1
                    continue
                }
                return all
            }
        }

        /// Moves to the next top-level `|` or `)` of the current group, or the end.
        mutating func skipToBranchEnd() -> Bool {
            var level = 0
            var inClass = false
            while let c = peek {
                if c == "\\" { index += 2; continue }
                if inClass {
                    if c == "]" { inClass = false }
                    index += 1
                    continue
                }
                if extended && c == "#" {
                    while let d = peek, d != "\n" { index += 1; _ = d }
                    continue
                }
                switch c {
                case "[": inClass = true
                case "(": level += 1
                case ")":
                    if level == 0 { return true }
                    level -= 1
                case "|":
                    if level == 0 { return true }
                default: break
                }
                index += 1
            }
            return true
        }

        mutating func skipInsignificant() {
            while let c = peek {
                if extended && (c == " " || c == "\n" || c == "\t" || c == "\r") {
                    index += 1
                } else if extended && c == "#" {
                    while let d = peek, d != "\n" { index += 1; _ = d }
                } else {
                    return
                }
            }
        }

        /// Skips a balanced group starting at `(`.
        mutating func skipGroup() -> Bool {
            var level = 0
            var inClass = false
            while let c = peek {
                index += 1
                if c == "\\" { index += 1; continue }
                if inClass { if c == "]" { inClass = false }; continue }
                if c == "[" { inClass = true }
                if c == "(" { level += 1 }
                if c == ")" {
                    level -= 1
                    if level == 0 { return true }
                }
            }
            return false
        }

        /// The literal prefixes of one branch: zero-width items are skipped, then either a
        /// group (its alternatives' prefixes) or a run of literal characters.
        mutating func sequence(depth: Int) -> [String]? {
            while true {
                skipInsignificant()
                guard let c = peek else { return nil }
                if c == "^" { index += 1; continue }
                if c == "\\", let next = peek(1), next == "b" || next == "A" || next == "G" {
                    index += 2
                    continue
                }
                if c == "(" && peek(1) == "?" {
                    let kind = peek(2)
                    if kind == "=" || kind == "!" || (kind == "<" && (peek(3) == "=" || peek(3) == "!")) {
                        guard skipGroup() else { return nil }
                        continue
                    }
                    // Option settings such as (?i) or (?x-i) apply from here on.
                    if let end = optionSettingEnd() {
                        let options = String(String.UnicodeScalarView(chars[(index + 2)..<end]))
                        let on = options.split(separator: "-", maxSplits: 1).first.map(String.init) ?? ""
                        let off = options.contains("-") ? String(options.split(separator: "-", maxSplits: 1).last ?? "") : ""
                        if on.contains("x") { extended = true }
                        if off.contains("x") { extended = false }
                        index = end + 1
                        continue
                    }
                }
                break
            }
            guard let c = peek else { return nil }
            if c == "(" {
                // (?: (?> ( and (?i: style groups; named groups and others give up.
                var bodyStart = index + 1
                if peek(1) == "?" {
                    guard let kind = peek(2) else { return nil }
                    if kind == ":" || kind == ">" {
                        bodyStart = index + 3
                    } else if kind.properties.isAlphabetic || kind == "-" {
                        var k = index + 2
                        while k < chars.count, chars[k] != ":" && chars[k] != ")" { k += 1 }
                        guard k < chars.count, chars[k] == ":" else { return nil }
                        bodyStart = k + 1
                    } else {
                        return nil
                    }
                }
                let saveExtended = extended
                index = bodyStart
                guard let inner = alternation(depth: depth + 1), peek == ")" else { return nil }
                index += 1
                extended = saveExtended
                // An optional group proves nothing about the start.
                if let q = peek, q == "?" || q == "*" || (q == "{" && peek(1) == "0") { return nil }
                return inner
            }
            var literal = String.UnicodeScalarView()
            while let c = peek {
                var scalar: Unicode.Scalar
                var width = 1
                if c == "\\" {
                    guard let next = peek(1), !next.properties.isAlphabetic, !("0"..."9").contains(next) else { break }
                    scalar = next
                    width = 2
                } else if "[](){}|.*+?^$".unicodeScalars.contains(c) {
                    break
                } else if extended && (c == " " || c == "\n" || c == "\t" || c == "#") {
                    break
                } else {
                    scalar = c
                }
                // A quantifier that allows zero makes this character optional: stop before it.
                let after = peek(width)
                if after == "?" || after == "*" || (after == "{" && peek(width + 1) == "0") { break }
                literal.append(scalar)
                index += width
                if after == "+" || after == "{" { break }
            }
            guard !literal.isEmpty else { return nil }
            return [String(literal)]
        }

        /// If `(?` at `index` starts an option setting like `(?i)`, the index of its `)`.
        func optionSettingEnd() -> Int? {
            var k = index + 2
            while k < chars.count {
                let c = chars[k]
                if c == ")" { return k > index + 2 ? k : nil }
                if !(c.properties.isAlphabetic || c == "-" || c == "^") { return nil }
                k += 1
            }
            return nil
        }
    }
}
