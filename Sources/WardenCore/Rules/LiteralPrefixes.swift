/// Finds literal text that every match of a pattern must contain.
///
/// This is how Warden avoids running every pattern on every post. For each pattern one set
/// of required literals is chosen (for `\b(?:i am|we are) (?:angry|furious)\b`, the set
/// {angry, furious}, rarer than {i am, we are}); all sets go into one prefix tree that is
/// scanned once per post, and a pattern runs only if one of its literals occurs. With the
/// shipped rules, running all 122 patterns on every post cost about 65 µs a post, and one
/// alternation of all of them more (PCRE2 tries every branch at every position).
///
/// The extraction is conservative: it understands literals, escaped punctuation, groups,
/// alternations and quantifiers, and skips zero-width items (`\b`, `^`, `\A`, option
/// settings, lookarounds). A branch in which nothing is certainly required gives up, and the
/// pattern then runs on every post: correctness never depends on the extraction being clever.
enum LiteralPrefixes {
    /// What a pattern requires: one of `literals` (lowercased) occurs in every match, and
    /// when `atStart`, every match starts with one of them. `also` lists further sets of which
    /// every match contains one literal each too (for `\bmay you (?:suffer|rot)\b`, the
    /// primary {may you} and also {suffer, rot}): a pattern runs only when all are present.
    struct Requirement: Equatable {
        var literals: Set<String>
        var atStart: Bool
        var also: [Set<String>] = []
    }

    /// At most this many extra sets are kept per pattern: each costs a check per candidate post.
    static let maxAlso = 4

    /// The required literals of `pattern`, or nil when none can be proven.
    static func extract(_ pattern: String) -> Requirement? {
        var parser = Parser(Array(pattern.unicodeScalars))
        guard let clauses = parser.alternation(depth: 0), parser.atEnd else { return nil }
        let lowered = clauses.map { Requirement(literals: Set($0.literals.map { $0.lowercased() }), atStart: $0.atStart) }
        return combine(lowered)
    }

    /// The best set as the primary, and the other sets that add something as `also`. A set
    /// implied by a kept one (each literal of the kept set contains one of it) says nothing
    /// more and is dropped, and so is a set with a one-byte literal: it is found in nearly
    /// every post, and the scan would report it at every occurrence.
    static func combine(_ clauses: [Requirement]) -> Requirement? {
        guard let primary = clauses.first else { return nil }
        func implies(_ a: Set<String>, _ b: Set<String>) -> Bool { a.allSatisfy { x in b.contains { x.contains($0) } } }
        var kept: [Set<String>] = [primary.literals]
        for clause in clauses.dropFirst() where kept.count <= maxAlso {
            guard clause.literals.allSatisfy({ $0.utf8.count >= 2 }) else { continue }
            if kept.contains(where: { implies($0, clause.literals) }) { continue }
            kept.removeAll { $0 != primary.literals && implies(clause.literals, $0) }
            kept.append(clause.literals)
        }
        return Requirement(literals: primary.literals, atStart: primary.atStart, also: Array(kept.dropFirst()))
    }

    /// Ranks a literal set: its shortest literal's length (longer is rarer), then fewer literals.
    static func score(_ literals: Set<String>) -> (Int, Int) {
        (min(literals.map { $0.unicodeScalars.count }.min() ?? 0, 6), -literals.count)
    }

    private struct Parser {
        let chars: [Unicode.Scalar]
        var index = 0
        var extended = false

        init(_ chars: [Unicode.Scalar]) { self.chars = chars }

        var atEnd: Bool { index >= chars.count }
        var peek: Unicode.Scalar? { index < chars.count ? chars[index] : nil }
        func peek(_ offset: Int) -> Unicode.Scalar? {
            let at = index + offset
            return at >= 0 && at < chars.count ? chars[at] : nil
        }

        /// `a|b|c` up to a closing parenthesis or the end, as required sets, best first: a single
        /// branch's own sets, or for several branches one set, the union of each branch's best.
        mutating func alternation(depth: Int) -> [Requirement]? {
            guard depth < 16 else { return nil }
            var branches: [[Requirement]] = []
            var failed = false
            while true {
                if let branch = sequence(depth: depth) {
                    branches.append(branch)
                } else {
                    failed = true
                }
                if peek == "|" {
                    index += 1
                    continue
                }
                break
            }
            if failed { return nil }
            if branches.count == 1 { return branches[0] }
            var literals = Set<String>()
            var atStart = true
            for branch in branches {
                literals.formUnion(branch[0].literals)
                atStart = atStart && branch[0].atStart
            }
            return [Requirement(literals: literals, atStart: atStart)]
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

        /// Skips a character class starting at `[`.
        mutating func skipClass() {
            index += 1
            if peek == "^" { index += 1 }
            if peek == "]" { index += 1 }
            while let c = peek {
                index += 1
                if c == "\\" { index += 1; continue }
                if c == "[" && peek == ":" {
                    while let d = peek, d != "]" { index += 1; _ = d }
                    index += 1
                    continue
                }
                if c == "]" { return }
            }
        }

        /// Reads a quantifier at `index`, if any: (allows zero, consumed).
        mutating func quantifier() -> Bool? {
            guard let c = peek else { return nil }
            var allowsZero: Bool
            switch c {
            case "?", "*":
                allowsZero = true
                index += 1
            case "+":
                allowsZero = false
                index += 1
            case "{":
                var k = index + 1
                var digits = ""
                while k < chars.count, ("0"..."9").contains(chars[k]) { digits.unicodeScalars.append(chars[k]); k += 1 }
                guard !digits.isEmpty || (k < chars.count && chars[k] == ","), k < chars.count else { return nil }
                while k < chars.count, chars[k] != "}" {
                    guard ("0"..."9").contains(chars[k]) || chars[k] == "," else { return nil }
                    k += 1
                }
                guard k < chars.count else { return nil }
                allowsZero = (Int(digits) ?? 0) == 0
                index = k + 1
            default:
                return nil
            }
            if let lazy = peek, lazy == "?" || lazy == "+" { index += 1 }
            return allowsZero
        }

        /// One branch: the sets of its factors (literal runs and groups that must occur), best first.
        mutating func sequence(depth: Int) -> [Requirement]? {
            var found: [Requirement] = []
            var run = String.UnicodeScalarView()
            var runAtStart = true
            var consumedBefore = false  // whether something that consumes text came before the current run
            func consider(_ candidate: Requirement) {
                guard !candidate.literals.isEmpty, candidate.literals.allSatisfy({ !$0.isEmpty }) else { return }
                found.append(candidate)
            }
            func endRun() {
                if !run.isEmpty { consider(Requirement(literals: [String(run)], atStart: runAtStart)) }
                run = String.UnicodeScalarView()
            }
            while true {
                skipInsignificant()
                guard let c = peek, c != "|", c != ")" else { break }
                if c == "^" { index += 1; continue }
                if c == "\\", let next = peek(1), "bBAGzZ".unicodeScalars.contains(next) {
                    index += 2
                    continue
                }
                if c == "(" && peek(1) == "?" {
                    let kind = peek(2)
                    if kind == "=" || kind == "!" || (kind == "<" && (peek(3) == "=" || peek(3) == "!")) {
                        guard skipGroup() else { return nil }
                        continue
                    }
                    if let end = optionSettingEnd() {
                        let options = String(String.UnicodeScalarView(chars[(index + 2)..<end]))
                        let parts = options.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
                        if parts.first?.contains("x") == true { extended = true }
                        if parts.count > 1, parts[1].contains("x") { extended = false }
                        index = end + 1
                        continue
                    }
                }
                if c == "(" {
                    endRun()
                    var bodyStart = index + 1
                    if peek(1) == "?" {
                        guard let kind = peek(2) else { return nil }
                        if kind == ":" || kind == ">" || kind == "|" {
                            guard kind != "|" else { return nil }
                            bodyStart = index + 3
                        } else if kind.properties.isAlphabetic || kind == "-" || kind == "^" {
                            var k = index + 2
                            while k < chars.count, chars[k] != ":" && chars[k] != ")" { k += 1 }
                            guard k < chars.count, chars[k] == ":" else { return nil }
                            bodyStart = k + 1
                        } else {
                            return nil  // named groups, recursion, verbs: give up
                        }
                    }
                    let saveExtended = extended
                    index = bodyStart
                    let inner = alternation(depth: depth + 1)
                    guard peek == ")" else { return nil }
                    index += 1
                    extended = saveExtended
                    let optional = quantifier() ?? false
                    if let inner, !optional {
                        for clause in inner { consider(Requirement(literals: clause.literals, atStart: !consumedBefore && clause.atStart)) }
                    }
                    consumedBefore = true
                    runAtStart = false
                    continue
                }
                var scalar: Unicode.Scalar?
                var width = 1
                if c == "\\" {
                    if let next = peek(1), !next.properties.isAlphabetic, !("0"..."9").contains(next) {
                        scalar = next
                        width = 2
                    } else {
                        // Escapes whose length depends on what follows (\0nn and \nnn octal or
                        // back-references, \cX, \g{..}, \k<..>, \Q…\E, \pL) are not modelled:
                        // reading what follows them as literals would gate the pattern on text
                        // its matches need not contain.
                        if let next = peek(1),
                            ("0"..."9").contains(next) || "cgkQE".unicodeScalars.contains(next)
                                || ((next == "p" || next == "P") && peek(2) != "{")
                        {
                            return nil
                        }
                        // \s \d \w \x27 \p{..} and the like: consume the escape, end the run.
                        endRun()
                        index += 2
                        if peek(-1) == "x" || peek(-1) == "p" || peek(-1) == "P" || peek(-1) == "N" || peek(-1) == "o" {
                            if peek == "{" { while let d = peek, d != "}" { index += 1; _ = d }; index += 1 } else if peek(-1) == "x" {
                                // \xhh takes at most two hex digits, possibly none (\x is NUL).
                                var digits = 0
                                while digits < 2, let d = peek, d.properties.isASCIIHexDigit { index += 1; digits += 1 }
                            }
                        }
                        _ = quantifier()
                        consumedBefore = true
                        runAtStart = false
                        continue
                    }
                } else if c == "[" {
                    endRun()
                    skipClass()
                    _ = quantifier()
                    consumedBefore = true
                    runAtStart = false
                    continue
                } else if c == "." {
                    endRun()
                    index += 1
                    _ = quantifier()
                    consumedBefore = true
                    runAtStart = false
                    continue
                } else if "*+?{}$".unicodeScalars.contains(c) {
                    if c == "$" { index += 1; continue }
                    return nil  // a quantifier with nothing to repeat: not understood
                } else {
                    scalar = c
                }
                guard let literal = scalar else { return nil }
                index += width
                let save = index
                if let allowsZero = quantifier() {
                    if allowsZero {
                        endRun()
                    } else {
                        if run.isEmpty { runAtStart = !consumedBefore }
                        run.append(literal)
                        endRun()
                    }
                    consumedBefore = true
                    runAtStart = false
                    continue
                }
                index = save
                if run.isEmpty { runAtStart = !consumedBefore }
                run.append(literal)
                consumedBefore = true
            }
            endRun()
            guard !found.isEmpty else { return nil }
            // Stable: among equally good sets the earliest comes first (it may be at the start).
            return found.enumerated().sorted { a, b in
                let (sa, sb) = (LiteralPrefixes.score(a.element.literals), LiteralPrefixes.score(b.element.literals))
                return sa != sb ? sa > sb : a.offset < b.offset
            }.map(\.element)
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
