/// Compiles a word list into one PCRE2 pattern factored as a prefix tree.
///
/// `\b(?:a(?:bs(?:olute|t)|…)|…)(?!\w)`: at each position the JIT compares one character per
/// branch instead of trying every word in turn. On this machine a 300-word list factored this
/// way scans about 2.5x faster than the same words as a flat alternation (about 110 MB/s
/// against 45 MB/s with JIT and UCP). Entries must already be normalised (lowercase), so the
/// pattern is compiled case-sensitively, which is also faster than caseless matching.
public enum WordTrie {
    /// One word-list entry after normalisation.
    public struct Entry: Hashable, Sendable {
        /// The entry's characters; `*` inside is a literal masking star.
        public var text: String
        /// A stem (`fuck*` in the file) also matches any longer word starting with it.
        public var isStem: Bool

        public init(text: String, isStem: Bool) {
            self.text = text
            self.isStem = isStem
        }
    }

    private final class Node {
        var children: [Unicode.Scalar: Node] = [:]
        var isWord = false
        var isStem = false
    }

    /// The prefix-tree pattern for `entries`, or nil when there are none.
    public static func pattern(for entries: [Entry]) -> String? {
        let root = Node()
        var any = false
        for entry in entries where !entry.text.isEmpty {
            any = true
            var node = root
            for scalar in entry.text.unicodeScalars {
                if node.isStem { break }
                if let next = node.children[scalar] {
                    node = next
                } else {
                    let next = Node()
                    node.children[scalar] = next
                    node = next
                }
            }
            if node.isStem { continue }
            node.isWord = true
            if entry.isStem {
                node.isStem = true
                node.children = [:]
            }
        }
        guard any else { return nil }
        return "\\b" + group(root) + "(?!\\w)"
    }

    /// Adds, for whole-word entries of five or more letters with doubled letters, the variant with the
    /// doubles single: the normaliser collapses runs of three or more to one letter, so
    /// "asssshole" arrives as "ashole". Short words keep only their own form: "ass" must not
    /// also match "as".
    public static func withCollapsedVariants(_ entries: [Entry]) -> [Entry] {
        var out = entries
        // Not for stems: "nigger*" collapsed to "niger*" would catch Niger and Nigeria.
        for entry in entries where !entry.isStem {
            let scalars = Array(entry.text.unicodeScalars)
            guard scalars.count >= 5 else { continue }
            var collapsed = String.UnicodeScalarView()
            var previous: Unicode.Scalar?
            for scalar in scalars {
                if scalar == previous && scalar.properties.isAlphabetic { continue }
                collapsed.append(scalar)
                previous = scalar
            }
            let variant = String(collapsed)
            if variant != entry.text { out.append(Entry(text: variant, isStem: entry.isStem)) }
        }
        return out
    }

    private static func group(_ node: Node) -> String {
        let keys = node.children.keys.sorted { $0.value < $1.value }
        var branches: [String] = []
        for key in keys {
            guard let child = node.children[key] else { continue }
            branches.append(escape(key) + suffix(child))
        }
        if branches.count == 1 { return branches[0] }
        return "(?:" + branches.joined(separator: "|") + ")"
    }

    /// The pattern for what may follow on reaching `node`.
    private static func suffix(_ node: Node) -> String {
        if node.isStem { return "\\w*" }
        if node.children.isEmpty { return "" }
        let rest = group(node)
        if node.isWord {
            // The word may end here or go on; `(?:…)?` keeps the longer words reachable.
            return node.children.count == 1 ? "(?:" + rest + ")?" : rest + "?"
        }
        return rest
    }

    static func escape(_ scalar: Unicode.Scalar) -> String {
        if scalar.isASCII {
            let value = scalar.value
            let isAlnum = (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
            if isAlnum || scalar == " " { return String(scalar) }
            return "\\" + String(scalar)
        }
        return String(scalar)
    }
}
