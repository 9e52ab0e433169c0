import Foundation

/// A syntactic check for the two pattern shapes behind most catastrophic backtracking.
///
/// Deliberately conservative: it may warn about a pattern that is in fact fine (a warning
/// costs a moderator a look), but every shape it names is one that has hung real regex
/// engines on a few thousand characters.
enum ReDoSCheck {
    enum Shape: Equatable {
        /// `(a+)+`: a repeated group whose body is itself repeated.
        case nestedQuantifier
        /// `(?:a|a)*`, `(\w|\d)+`: a repeated alternation with branches that can match the same text.
        case overlappingAlternation
    }

    static func isSuspicious(_ pattern: String) -> Bool { shape(of: pattern) != nil }

    static func shape(of pattern: String) -> Shape? {
        let chars = Array(pattern)
        // For each open group: where its body starts, and whether a quantifier appeared inside it.
        var stack: [(bodyStart: Int, quantified: Bool)] = []
        var index = 0
        var inClass = false
        var found: Shape?
        while index < chars.count {
            let c = chars[index]
            if c == "\\" { index += 2; continue }
            if inClass {
                if c == "]" { inClass = false }
                index += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                // A ']' right after '[' or '[^' is a member, not the end of the class.
                if index + 1 < chars.count, chars[index + 1] == "^" { index += 1 }
                if index + 1 < chars.count, chars[index + 1] == "]" { index += 1 }
            case "(":
                stack.append((index + 1, false))
            case ")":
                guard let group = stack.popLast() else { break }
                if isUnboundedRepeat(chars, at: index + 1) {
                    if group.quantified { return .nestedQuantifier }
                    if found == nil, branchesOverlap(Array(chars[group.bodyStart..<index])) { found = .overlappingAlternation }
                }
                if group.quantified, !stack.isEmpty { stack[stack.count - 1].quantified = true }
            default:
                if isQuantifier(chars, at: index), !stack.isEmpty { stack[stack.count - 1].quantified = true }
            }
            index += 1
        }
        return found
    }

    /// Any quantifier that repeats: `*`, `+`, `{n}`, `{n,m}`, `{n,}`.
    private static func isQuantifier(_ chars: [Character], at i: Int) -> Bool {
        guard i < chars.count else { return false }
        if chars[i] == "*" || chars[i] == "+" { return true }
        return chars[i] == "{" && i + 1 < chars.count && chars[i + 1].isNumber
    }

    /// `*`, `+` or `{n,}`: only an unbounded outer repeat blows up; `(?:\w+\s+){0,4}` costs at
    /// most a constant factor, and `?` never explodes. A possessive repeat (`*+`, `++`,
    /// `{n,}+`) gives nothing back, so it cannot backtrack either.
    private static func isUnboundedRepeat(_ chars: [Character], at i: Int) -> Bool {
        guard i < chars.count else { return false }
        let end: Int
        if chars[i] == "*" || chars[i] == "+" {
            end = i + 1
        } else if chars[i] == "{", let close = chars[i...].firstIndex(of: "}") {
            let body = chars[(i + 1)..<close]
            guard body.last == ",", body.count > 1, body.dropLast().allSatisfy(\.isNumber) else { return false }
            end = close + 1
        } else {
            return false
        }
        return end >= chars.count || chars[end] != "+"
    }

    // MARK: Alternation overlap

    /// What one pattern atom can match, approximated: a few literal characters and classes.
    struct CharSet {
        var literals: Set<Character> = []
        var word = false, digit = false, space = false
        /// `.`, a negated class, `\p{…}`: treated as matching anything.
        var any = false

        func overlaps(_ other: CharSet) -> Bool {
            if any || other.any { return true }
            if !literals.isDisjoint(with: other.literals) { return true }
            func covers(_ a: CharSet, _ b: CharSet) -> Bool {
                (a.word && (b.word || b.digit || b.literals.contains { $0.isLetter || $0.isNumber || $0 == "_" }))
                    || (a.digit && (b.digit || b.literals.contains { $0.isNumber }))
                    || (a.space && (b.space || b.literals.contains { $0.isWhitespace }))
            }
            return covers(self, other) || covers(other, self)
        }
    }

    /// Whether two top-level branches of a group's body can start by matching the same text.
    /// Each branch is read as a run of single-character atoms up to its first group or
    /// quantifier; beyond that it is assumed to match anything (the conservative answer).
    static func branchesOverlap(_ body: [Character]) -> Bool {
        var body = body[...]
        // (?:…) and named groups hold their body after the prefix; lookarounds consume
        // nothing and other (?…) groups are left alone.
        if body.first == "?" {
            let kind = Array(body.dropFirst().prefix(2))
            if kind.first == ":" {
                body = body.dropFirst(2)
            } else if (kind.first == "<" && kind.last != "=" && kind.last != "!") || kind.first == "P" || kind.first == "'",
                let close = body.dropFirst(2).firstIndex(where: { $0 == ">" || $0 == "'" })
            {
                body = body[(close + 1)...]
            } else {
                return false
            }
        }
        let branches = splitTopLevel(Array(body))
        guard branches.count > 1 else { return false }
        let prefixes = branches.map(simplePrefix)
        for i in prefixes.indices {
            for j in prefixes.indices where j > i {
                let a = prefixes[i], b = prefixes[j]
                if zip(a, b).allSatisfy({ $0.overlaps($1) }) { return true }
            }
        }
        return false
    }

    private static func splitTopLevel(_ body: [Character]) -> [[Character]] {
        var branches: [[Character]] = [[]]
        var depth = 0, inClass = false, index = 0
        while index < body.count {
            let c = body[index]
            if c == "\\" {
                branches[branches.count - 1] += body[index..<min(index + 2, body.count)]
                index += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
            } else if c == "(" {
                depth += 1
            } else if c == ")" {
                depth -= 1
            } else if c == "|" && depth == 0 {
                branches.append([])
                index += 1
                continue
            }
            branches[branches.count - 1].append(c)
            index += 1
        }
        return branches
    }

    /// The branch's leading single-character atoms, stopping at anything more complex.
    private static func simplePrefix(_ branch: [Character]) -> [CharSet] {
        var atoms: [CharSet] = []
        var index = 0
        while index < branch.count {
            var atom = CharSet()
            let c = branch[index]
            switch c {
            case "(", "|", ")":
                return atoms
            case "^", "$":
                index += 1
                continue
            case ".":
                atom.any = true
                index += 1
            case "\\":
                guard index + 1 < branch.count else { return atoms }
                let e = branch[index + 1]
                index += 2
                switch e {
                case "w": atom.word = true
                case "d": atom.digit = true
                case "s": atom.space = true
                case "b", "B", "A", "z", "Z", "G": continue
                case _ where e.isLetter || e.isNumber: atom.any = true
                default: atom.literals = [e]
                }
            case "[":
                guard let (set, next) = parseClass(branch, from: index) else { return atoms }
                atom = set
                index = next
            default:
                atom.literals = Set(String(c).lowercased() + String(c).uppercased())
                index += 1
            }
            // A quantified atom may match nothing or many: stop reading the branch here.
            if index < branch.count, "*+?{".contains(branch[index]) {
                atoms.append(atom)
                return atoms
            }
            atoms.append(atom)
        }
        return atoms
    }

    /// Reads `[…]` starting at `start`; returns what it matches and the index after it.
    private static func parseClass(_ chars: [Character], from start: Int) -> (CharSet, Int)? {
        var set = CharSet()
        var index = start + 1
        if index < chars.count, chars[index] == "^" {
            set.any = true
            index += 1
        }
        var first = true
        var previous: Character?
        while index < chars.count {
            let c = chars[index]
            if c == "]" && !first { return (set, index + 1) }
            first = false
            if c == "\\", index + 1 < chars.count {
                let e = chars[index + 1]
                switch e {
                case "w": set.word = true
                case "d": set.digit = true
                case "s": set.space = true
                case _ where e.isLetter: set.any = true
                default: set.literals.insert(e)
                }
                previous = nil
                index += 2
                continue
            }
            if c == "-", let low = previous, index + 1 < chars.count, chars[index + 1] != "]",
                let lowValue = low.unicodeScalars.first?.value, let highValue = chars[index + 1].unicodeScalars.first?.value
            {
                if highValue >= lowValue && highValue - lowValue <= 256 {
                    for value in lowValue...highValue {
                        if let scalar = Unicode.Scalar(value) { set.literals.formUnion(String(scalar).lowercased() + String(scalar).uppercased()) }
                    }
                } else {
                    set.any = true
                }
                previous = nil
                index += 2
                continue
            }
            set.literals.formUnion(String(c).lowercased() + String(c).uppercased())
            previous = c
            index += 1
        }
        return nil
    }
}
