/// Finds every occurrence of many literals in one pass over the bytes (Aho–Corasick).
///
/// This is the gate in front of the rules' patterns (see `LiteralPrefixes`). A PCRE2
/// alternation of the shipped rules' 900 literals with a callout after each cost about 4 µs
/// per post here, because PCRE2 tries every first-character branch at every position; this
/// automaton takes one table lookup per byte, well under 1 µs for a post.
///
/// Bytes are mapped to equivalence classes first (only bytes that occur in some literal get
/// a class of their own), which keeps the dense transition table small: states × classes.
struct LiteralAutomaton: Sendable {
    private let classOf: [UInt8]
    private let classCount: Int
    private let transitions: [UInt32]
    /// Literal numbers reported at each state, as ranges into `outputs`.
    private let outputStart: [Int32]
    private let outputs: [Int32]
    /// Byte length of each literal, to turn an end position into a start.
    let lengths: [Int]

    /// Builds the automaton; with `foldASCIICase`, A–Z in the text match a–z in the literals
    /// (literals must then be lowercase).
    /// What must be true next to an occurrence for it to count: no ASCII letter, digit or
    /// underscore just before it (`start`) or just after it (`end`).
    struct Edges: Sendable {
        var start = false
        var end = false
    }

    /// Per literal: bit 0 `Edges.start`, bit 1 `Edges.end`.
    private let edges: [UInt8]

    init(literals: [[UInt8]], foldASCIICase: Bool, edges: [Edges]? = nil) {
        self.edges = (edges ?? []).map { ($0.start ? 1 : 0) | ($0.end ? 2 : 0) } + Array(repeating: 0, count: max(0, literals.count - (edges?.count ?? 0)))
        var classOf = [UInt8](repeating: 0, count: 256)
        var classCount = 1
        for literal in literals {
            for byte in literal where classOf[Int(byte)] == 0 {
                classOf[Int(byte)] = UInt8(truncatingIfNeeded: classCount)
                classCount += 1
            }
        }
        // 255 distinct bytes at most appear in literals; class 0 is "any other byte".
        if foldASCIICase {
            for upper in UInt8(ascii: "A")...UInt8(ascii: "Z") { classOf[Int(upper)] = classOf[Int(upper | 0x20)] }
        }
        // The trie, with goto edges in a dictionary while building.
        var edges: [[UInt8: Int32]] = [[:]]
        var terminal: [[Int32]] = [[]]
        for (number, literal) in literals.enumerated() {
            var state = 0
            for byte in literal {
                let cls = classOf[Int(byte)]
                if let next = edges[state][cls] {
                    state = Int(next)
                } else {
                    edges.append([:])
                    terminal.append([])
                    edges[state][cls] = Int32(edges.count - 1)
                    state = edges.count - 1
                }
            }
            terminal[state].append(Int32(number))
        }
        let stateCount = edges.count
        var table = [Int32](repeating: 0, count: stateCount * classCount)
        var fail = [Int32](repeating: 0, count: stateCount)
        var output = terminal
        // Breadth-first: each state's failure link is known before its children need it.
        var queue: [Int] = []
        for cls in 0..<classCount {
            if let child = edges[0][UInt8(cls)] {
                table[cls] = child
                queue.append(Int(child))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            output[state] += output[Int(fail[state])]
            for cls in 0..<classCount {
                let fallback = table[Int(fail[state]) * classCount + cls]
                if let child = edges[state][UInt8(cls)] {
                    fail[Int(child)] = fallback
                    table[state * classCount + cls] = child
                    queue.append(Int(child))
                } else {
                    table[state * classCount + cls] = fallback
                }
            }
        }
        // States are renumbered in breadth-first order: the shallow states, where a scan of
        // ordinary text spends nearly all its time, then share a few cache lines of the table.
        let order = [0] + queue
        var renumbered = [Int](repeating: 0, count: stateCount)
        for (new, old) in order.enumerated() { renumbered[old] = new }
        var starts: [Int32] = [0]
        var flat: [Int32] = []
        for old in order {
            flat += output[old]
            starts.append(Int32(flat.count))
        }
        // Each entry is the next state's row offset (state × classes), with the top bit set when
        // some literal ends in that state: one load and one test per byte in the scan.
        var packed = [UInt32](repeating: 0, count: table.count)
        for (new, old) in order.enumerated() {
            for cls in 0..<classCount {
                let next = Int(table[old * classCount + cls])
                packed[new * classCount + cls] = UInt32(renumbered[next] * classCount) | (output[next].isEmpty ? 0 : Self.endsLiteral)
            }
        }
        self.classOf = classOf
        self.classCount = classCount
        self.transitions = packed
        self.outputStart = starts
        self.outputs = flat
        self.lengths = literals.map(\.count)
        // offset / classCount as a multiply and shift (exact: offsets are multiples of it).
        self.rowReciprocal = (UInt64(1) << 40) / UInt64(classCount) + 1
    }

    private let rowReciprocal: UInt64

    private static let endsLiteral: UInt32 = 0x8000_0000

    /// The positions where some literal ends, as `(state << 32) | end` in `ends[0..<count]`,
    /// `end` being the byte after the literal; returns the count. `ends` grows to the text's
    /// length and is reused. The loop does nothing else, so it keeps its few values in
    /// registers; the literals are looked up afterwards, for the few bytes where one ends.
    func scan(_ text: UnsafeBufferPointer<UInt8>, into ends: inout [UInt64]) -> Int {
        guard let base = text.baseAddress, !text.isEmpty else { return 0 }
        if ends.count < text.count { ends = Array(repeating: 0, count: max(text.count, 2 * ends.count)) }
        return transitions.withUnsafeBufferPointer { table in
            classOf.withUnsafeBufferPointer { classes in
                ends.withUnsafeMutableBufferPointer { out in
                    var cursor = Cursor(self, table: table, classes: classes, out: out)
                    for index in 0..<text.count { cursor.step(base[index], at: index) }
                    return cursor.found
                }
            }
        }
    }

    /// One scan in progress, its pointers and state as plain values so the loop keeps them
    /// in registers.
    private struct Cursor {
        let table: UnsafePointer<UInt32>
        let classes: UnsafePointer<UInt8>
        let out: UnsafeMutablePointer<UInt64>
        let reciprocal: UInt64
        var offset: UInt32 = 0
        var found = 0

        init(_ automaton: LiteralAutomaton, table: UnsafeBufferPointer<UInt32>, classes: UnsafeBufferPointer<UInt8>, out: UnsafeMutableBufferPointer<UInt64>) {
            self.table = table.baseAddress!
            self.classes = classes.baseAddress!
            self.out = out.baseAddress!
            self.reciprocal = automaton.rowReciprocal
        }

        /// Reads `byte` (at `index`); records `(state << 32) | end` if a literal ends there.
        @inline(__always)
        mutating func step(_ byte: UInt8, at index: Int) {
            let next = table[Int(offset &+ UInt32(classes[Int(byte)]))]
            offset = next & ~LiteralAutomaton.endsLiteral
            if next & LiteralAutomaton.endsLiteral != 0 {
                out[found] = ((UInt64(offset) &* reciprocal) >> 40) << 32 | UInt64(index &+ 1)
                found &+= 1
            }
        }
    }

    @inline(__always)
    static func isASCIIWord(_ byte: UInt8) -> Bool {
        let lower = byte | 0x20
        return (lower >= 0x61 && lower <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
    }

    /// `scan` of two texts with two automata (a post's normalised and original text) in one
    /// loop: each step of a scan waits for its table load, so two independent scans side by
    /// side take little longer than one.
    static func scanPair(
        _ a: LiteralAutomaton, _ textA: UnsafeBufferPointer<UInt8>, into endsA: inout [UInt64],
        _ b: LiteralAutomaton, _ textB: UnsafeBufferPointer<UInt8>, into endsB: inout [UInt64]
    ) -> (Int, Int) {
        guard let baseA = textA.baseAddress, let baseB = textB.baseAddress, !textA.isEmpty, !textB.isEmpty else {
            return (a.scan(textA, into: &endsA), b.scan(textB, into: &endsB))
        }
        let n = textA.count, m = textB.count
        if endsA.count < n { endsA = Array(repeating: 0, count: max(n, 2 * endsA.count)) }
        if endsB.count < m { endsB = Array(repeating: 0, count: max(m, 2 * endsB.count)) }
        return a.transitions.withUnsafeBufferPointer { tableA in
            b.transitions.withUnsafeBufferPointer { tableB in
                a.classOf.withUnsafeBufferPointer { classesA in
                    b.classOf.withUnsafeBufferPointer { classesB in
                        endsA.withUnsafeMutableBufferPointer { outA in
                            endsB.withUnsafeMutableBufferPointer { outB in
                                var first = Cursor(a, table: tableA, classes: classesA, out: outA)
                                var second = Cursor(b, table: tableB, classes: classesB, out: outB)
                                let common = min(n, m)
                                for index in 0..<common {
                                    first.step(baseA[index], at: index)
                                    second.step(baseB[index], at: index)
                                }
                                for index in common..<n { first.step(baseA[index], at: index) }
                                for index in common..<m { second.step(baseB[index], at: index) }
                                return (first.found, second.found)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The literals that end in `state`: indices into `outputs`.
    @inline(__always)
    func literalRange(ofState state: Int) -> Range<Int> { Int(outputStart[state])..<Int(outputStart[state &+ 1]) }

    /// For every pattern (owner) whose literal occurs, the earliest start of one of its literals.
    ///
    /// `ownerStart`/`owners` list, per literal, the patterns that need it. `firstHit` must hold
    /// `Int.max` for every owner on entry; owners found are appended to `hits` once each. Every
    /// literal found gets `seen[literal] = generation`. `ends` is scratch space, or holds
    /// `scanned` results of `scanPair` already. All in flat
    /// buffers: with a closure and an array of arrays per occurrence this scan cost about
    /// 3.5 µs a post; most of it was reference counting.
    func firstOccurrences(
        in text: UnsafeBufferPointer<UInt8>, ownerStart: [Int32], owners: [Int32], firstHit: inout [Int], hits: inout [Int],
        seen: inout [UInt32], generation: UInt32, ends: inout [UInt64], scanned: Int? = nil
    ) {
        let count = scanned ?? scan(text, into: &ends)
        guard count > 0 else { return }
        lengths.withUnsafeBufferPointer { length in
            ownerStart.withUnsafeBufferPointer { ownStart in
                owners.withUnsafeBufferPointer { own in
                    firstHit.withUnsafeMutableBufferPointer { first in
                        seen.withUnsafeMutableBufferPointer { seen in
                            outputs.withUnsafeBufferPointer { out in
                              edges.withUnsafeBufferPointer { edges in
                                for packed in ends[0..<count] {
                                    let end = Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)
                                    for k in literalRange(ofState: Int(packed >> 32)) {
                                        let literal = Int(out[k])
                                        let start = end &- length[literal]
                                        let edge = edges[literal]
                                        if edge != 0 {
                                            if edge & 1 != 0, start > 0, Self.isASCIIWord(text[start &- 1]) { continue }
                                            if edge & 2 != 0, end < text.count, Self.isASCIIWord(text[end]) { continue }
                                        }
                                        seen[literal] = generation
                                        for o in Int(ownStart[literal])..<Int(ownStart[literal &+ 1]) {
                                            let owner = Int(own[o])
                                            if first[owner] == Int.max { hits.append(owner) }
                                            if start < first[owner] { first[owner] = start }
                                        }
                                    }
                                }
                              }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body(literal, end)` for every occurrence, `end` being the byte after it.
    func forEachOccurrence(in text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        var ends: [UInt64] = []
        let count = scan(text, into: &ends)
        for packed in ends[0..<count] {
            let end = Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)
            for k in literalRange(ofState: Int(packed >> 32)) {
                let literal = Int(outputs[k])
                let start = end - lengths[literal]
                if edges[literal] & 1 != 0, start > 0, Self.isASCIIWord(text[start - 1]) { continue }
                if edges[literal] & 2 != 0, end < text.count, Self.isASCIIWord(text[end]) { continue }
                body(literal, end)
            }
        }
    }
}

extension LiteralAutomaton {
    /// Its size, for `warden check --print-patterns`.
    var sizeSummary: String { "\(outputStart.count - 1) states × \(classCount) byte classes, \(transitions.count * 4 / 1024) KiB" }
}
