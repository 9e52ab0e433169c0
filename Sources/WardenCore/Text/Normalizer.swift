// Over 400 lines: one pass over the text building a per-byte origin map; its folding tables are data, and a split would walk twice.
import Foundation

/// Normalised UTF-8 text plus, for every byte, the span of the original text it came from.
///
/// Patterns run over `bytes`, but moderators and action files speak in Unicode-scalar offsets
/// of the text the poster wrote; the two per-byte arrays are what lets a match on "fuck" in the
/// normalised text be reported (and masked) as "f.u.c.k" in the original.
public struct NormalizedText: Sendable {
    /// What PCRE2 patterns match: valid UTF-8, lowercase, de-obfuscated.
    public var bytes: [UInt8]
    /// Per output byte: the first original Unicode-scalar offset it came from.
    public var scalarStart: [Int32]
    /// Per output byte: the end (exclusive) original Unicode-scalar offset it came from.
    public var scalarEnd: [Int32]

    /// An empty text, so a worker can keep one around and refill it post after post.
    public init() {
        bytes = []
        scalarStart = []
        scalarEnd = []
    }

    /// Maps a byte range of `bytes` (as PCRE2 reports matches) to a half-open range of
    /// Unicode-scalar offsets in the original text, because offsets in action files and
    /// masking are in the poster's own text. An empty input range gives an empty range at the
    /// mapped position; a range past the end is clamped rather than trapping.
    public func originalRange(ofBytes range: Range<Int>) -> Range<Int> {
        let count = bytes.count
        guard count > 0 else { return 0..<0 }
        let lower = min(max(range.lowerBound, 0), count)
        let upper = min(max(range.upperBound, lower), count)
        if lower == upper {
            let position = lower < count ? Int(scalarStart[lower]) : Int(scalarEnd[count - 1])
            return position..<position
        }
        let start = Int(scalarStart[lower])
        // Ends are monotone (spans are laid out left to right), so the last byte's end is the
        // furthest one; `max` only guards against a malformed hand-built value.
        let end = max(Int(scalarEnd[upper - 1]), start)
        return start..<end
    }
}

/// Turns a post (or a word-list entry) into the form patterns are written against: lowercase,
/// no invisible characters or accents, look-alike letters and leetspeak undone, spaced-out and
/// stretched words joined back together.
///
/// One per worker: it holds a cache of per-scalar mappings and scratch buffers, so it is
/// deliberately not `Sendable` and must not be shared across threads.
///
/// Performance: four linear passes over a unit buffer (decode+map, tokens, joining, encode)
/// instead of one pass per stage over `String`s. Measured with `TextBench` (release, best of 5
/// rounds of 20,000 normalisations of a ~1.1 KB post, shared 2-core Debian 12 box): ASCII
/// prose 280-357 MB/s, heavily obfuscated ASCII 196-262 MB/s, mixed Latin/Cyrillic/
/// fullwidth/emoji 235-311 MB/s once the per-scalar cache is warm.
public struct Normalizer {
    private var scratch = Scratch()
    private var scalarCache = ScalarCache()

    /// Creates a normaliser with empty caches; they fill as distinct characters are seen.
    public init() {}

    /// Normalises `text` into `out`, reusing `out`'s capacity so a worker allocates nothing
    /// per post once its buffers have grown to the size of a typical post.
    public mutating func normalize(_ text: String, into out: inout NormalizedText) {
        var text = text
        text.withUTF8 { utf8 in
            decode(utf8)
        }
        applyLeetAndMasking()
        if joinSeparatedLetters() {
            scratch.compact()
        }
        encode(into: &out)
    }

    /// Normalises `text` into a fresh value; convenient where allocation does not matter.
    public mutating func normalize(_ text: String) -> NormalizedText {
        var out = NormalizedText()
        normalize(text, into: &out)
        return out
    }

    /// Normalises a word-list entry or phrase with the same pipeline as posts, so that entries
    /// written "Fück" or "sh1t" agree with what posts become. Used at rule-compile time.
    /// The word list's `*` is not special here: the caller splits on it before calling.
    /// Leading and trailing spaces are trimmed because they never carry meaning in an entry.
    public static func normalizeEntry(_ entry: String) -> String {
        var normalizer = Normalizer()
        let normalized = normalizer.normalize(entry)
        var bytes = normalized.bytes[...]
        while bytes.first == UInt8(ascii: " ") { bytes = bytes.dropFirst() }
        while bytes.last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Stage 1 and 2: per-scalar mapping and whitespace runs

    /// Decodes UTF-8 into units (one per output scalar) with their original scalar spans.
    ///
    /// Written against local copies of the scratch pointers and count: going through the
    /// class's stored properties costs an exclusivity check per access, which halved
    /// throughput on ASCII posts (150 -> 300+ MB/s when hoisted).
    /// The scalar of an HTML entity at `index` (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`,
    /// `&nbsp;`, `&#39;`, `&#x27;`) and its length in bytes, or nil.
    static func htmlEntity(_ base: UnsafePointer<UInt8>, at index: Int, count: Int) -> (UInt32, Int)? {
        var end = index + 1
        while end < count, end - index <= 10, base[end] != UInt8(ascii: ";") {
            let b = base[end]
            guard (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "#") else { return nil }
            end += 1
        }
        guard end < count, base[end] == UInt8(ascii: ";"), end > index + 1 else { return nil }
        let name = String(decoding: UnsafeBufferPointer(start: base + index + 1, count: end - index - 1), as: UTF8.self)
        let length = end - index + 1
        switch name {
        case "amp": return (0x26, length)
        case "lt": return (0x3C, length)
        case "gt": return (0x3E, length)
        case "quot": return (0x22, length)
        case "apos": return (0x27, length)
        case "nbsp": return (0x20, length)
        default:
            guard name.hasPrefix("#") else { return nil }
            let digits = name.dropFirst()
            let value = digits.hasPrefix("x") || digits.hasPrefix("X") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            guard let value, value > 0, let scalar = Unicode.Scalar(value) else { return nil }
            return (scalar.value, length)
        }
    }

    private mutating func decode(_ utf8: UnsafeBufferPointer<UInt8>) {
        scratch.resetUnits(minimumCapacity: utf8.count + 16)
        guard let base = utf8.baseAddress else { return }
        let byteCount = utf8.count
        var units = scratch.units()
        var index = 0
        var scalarOffset: Int32 = 0
        // A dropped character before any output attaches to the next output character.
        var pendingStart: Int32 = -1

        CharClass.ascii.withUnsafeBufferPointer { asciiClass in
            CharClass.asciiLower.withUnsafeBufferPointer { asciiLower in
                while index < byteCount {
                    let lead = base[index]
                    if lead == UInt8(ascii: "&"), let (decoded, length) = Self.htmlEntity(base, at: index, count: byteCount) {
                        // Some platforms deliver text HTML-escaped ("Like &amp; Subscribe",
                        // "I&#39;m"): read the character, mapped back to the whole entity.
                        let start = pendingStart >= 0 ? pendingStart : scalarOffset
                        pendingStart = -1
                        let end = scalarOffset &+ Int32(length)
                        if decoded < 0x80 {
                            let cls = asciiClass[Int(decoded)]
                            if cls != CharClass.dropped {
                                units.append(scalar: UInt32(asciiLower[Int(decoded)]), cls: cls, start: start, end: end)
                            }
                        } else {
                            let mapping = scalarCache.mapping(for: decoded)
                            for k in 0..<Int(mapping.count) {
                                let produced = scalarCache.pool[Int(mapping.poolStart) + k]
                                units.append(scalar: produced.scalar, cls: produced.cls, start: start, end: end)
                            }
                        }
                        index &+= length
                        scalarOffset = end
                        continue
                    }
                    if lead < 0x80 {
                        let cls = asciiClass[Int(lead)]
                        if cls == CharClass.dropped {
                            units.drop(at: scalarOffset, pendingStart: &pendingStart)
                        } else {
                            let start = pendingStart >= 0 ? pendingStart : scalarOffset
                            pendingStart = -1
                            units.append(
                                scalar: UInt32(asciiLower[Int(lead)]), cls: cls,
                                start: start, end: scalarOffset &+ 1)
                        }
                        index &+= 1
                        scalarOffset &+= 1
                        continue
                    }
                    // Multi-byte scalar: String guarantees valid UTF-8, so decode without checks.
                    let value: UInt32
                    let length: Int
                    if lead < 0xE0 {
                        value = (UInt32(lead & 0x1F) << 6) | UInt32(base[index &+ 1] & 0x3F)
                        length = 2
                    } else if lead < 0xF0 {
                        value =
                            (UInt32(lead & 0x0F) << 12) | (UInt32(base[index &+ 1] & 0x3F) << 6)
                            | UInt32(base[index &+ 2] & 0x3F)
                        length = 3
                    } else {
                        value =
                            (UInt32(lead & 0x07) << 18) | (UInt32(base[index &+ 1] & 0x3F) << 12)
                            | (UInt32(base[index &+ 2] & 0x3F) << 6) | UInt32(base[index &+ 3] & 0x3F)
                        length = 4
                    }
                    let mapping = scalarCache.mapping(for: value)
                    if mapping.count == 0 {
                        units.drop(at: scalarOffset, pendingStart: &pendingStart)
                    } else {
                        let start = pendingStart >= 0 ? pendingStart : scalarOffset
                        pendingStart = -1
                        for k in 0..<Int(mapping.count) {
                            let produced = scalarCache.pool[Int(mapping.poolStart) + k]
                            units.append(
                                scalar: produced.scalar, cls: produced.cls,
                                start: start, end: scalarOffset &+ 1)
                        }
                    }
                    index &+= length
                    scalarOffset &+= 1
                }
            }
        }
        scratch.commit(units)
        // Trailing dropped characters with nothing before them (a post of only zero-width
        // characters) produce no output, so there is nothing to attach them to.
    }

    // MARK: - Stage 3 and 4: leetspeak within tokens, '#' masking

    private mutating func applyLeetAndMasking() {
        let n = scratch.count
        let scalars = scratch.scalars
        let classes = scratch.classes
        var i = 0
        // True after a letter and through the '*' / '#' that follow it, so "f##k" masks both.
        var afterLetter = false
        while i < n {
            let cls = classes[i]
            if cls & CharClass.tokenChar == 0 {
                if cls & CharClass.hash != 0 {
                    if afterLetter {
                        scalars[i] = UInt32(UInt8(ascii: "*"))
                        classes[i] = CharClass.ascii[Int(UInt8(ascii: "*"))]
                    }
                } else if scalars[i] != UInt32(UInt8(ascii: "*")) {
                    afterLetter = false
                }
                i &+= 1
                continue
            }
            // A token: letters, digits and the leet symbols. Plain words (the common case) are
            // scanned once and left alone.
            let tokenStart = i
            var letters = 0
            var hasOther = false
            while i < n, classes[i] & CharClass.tokenChar != 0 {
                if classes[i] & CharClass.letter != 0 { letters &+= 1 } else { hasOther = true }
                i &+= 1
            }
            afterLetter = classes[i - 1] & CharClass.letter != 0
            if hasOther, letters > 0 {
                rewriteLeet(tokenStart..<i, letters: letters)
                afterLetter = classes[i - 1] & CharClass.letter != 0
            }
        }
    }

    /// Maps leet digits and symbols in one token to letters when the token is mostly letters.
    ///
    /// The letters >= leet rule keeps "a55" (a phone model), "1337", "$100" and "2024" as
    /// written: a product name must never become a swear word. A trailing run of two or more
    /// digits is also left alone ("covid19", "iphone15", "win10"): that is how model numbers
    /// and years are written, while leet swaps almost always sit inside the word.
    private mutating func rewriteLeet(_ token: Range<Int>, letters: Int) {
        let scalars = scratch.scalars
        let classes = scratch.classes
        var limit = token.upperBound
        while limit > token.lowerBound, classes[limit - 1] & CharClass.digit != 0 { limit -= 1 }
        if token.upperBound - limit < 2 { limit = token.upperBound }

        // "f+u+c+k" is spaced-out letters, not leet for "ftutctk": leave it to the joining stage.
        if isAlternatingPlus(token) { return }

        var leet = 0
        for k in token.lowerBound..<limit where isMappableLeet(at: k, token: token) {
            leet += 1
        }
        // Letters must outnumber the swaps, or tie in a word of four or more ("$h1t"): "1k",
        // "4k", "5g" and "b4" are how people write numbers, not disguises ("1k subscribers"
        // used to read "ik subscribers").
        guard leet > 0, letters > leet || (letters == leet && token.count >= 4) else { return }
        for k in token.lowerBound..<limit where isMappableLeet(at: k, token: token) {
            if let letter = CharClass.leetLetter(scalars[k]) {
                scalars[k] = UInt32(letter)
                classes[k] = CharClass.ascii[Int(letter)]
            }
        }
    }

    private func isMappableLeet(at k: Int, token: Range<Int>) -> Bool {
        let scalar = scratch.scalars[k]
        guard CharClass.leetLetter(scalar) != nil else { return false }
        // '!' and '(' end sentences and open asides ("hello!", "(this"), so they count only
        // inside a word: after something in the token and before a letter ("sh!t", "fu(k").
        if scalar == 0x21 || scalar == 0x28 {
            guard k > token.lowerBound, k + 1 < token.upperBound else { return false }
            return scratch.classes[k + 1] & CharClass.letter != 0
        }
        // A leading '@' is usually a mention ("@nalytics_team" must not read "analytics..." let
        // alone "anal..."), so it is leet only for short words ("@ss", "@rse") or when the word
        // carries other leet too ("@$$hole").
        if scalar == 0x40, k == token.lowerBound {
            var otherLeet = false
            for j in (k + 1)..<token.upperBound where scratch.classes[j] & CharClass.letter == 0 {
                otherLeet = true
            }
            return otherLeet || token.count <= 4
        }
        return true
    }

    private func isAlternatingPlus(_ token: Range<Int>) -> Bool {
        guard token.count >= 5, token.count % 2 == 1 else { return false }
        let plus = UInt32(UInt8(ascii: "+"))
        for k in token {
            let isPlus = scratch.scalars[k] == plus
            if isPlus != ((k - token.lowerBound) % 2 == 1) { return false }
        }
        return true
    }

    // MARK: - Stage 5: joining spaced-out letters

    /// Joins runs like "f u c k", "f.u.c.k", "s-h-1-t" (three or more single characters with
    /// the same one-character separator). Returns whether any separator was removed.
    private mutating func joinSeparatedLetters() -> Bool {
        let n = scratch.count
        guard n >= 5 else { return false }
        let scalars = scratch.scalars
        let classes = scratch.classes
        let ends = scratch.ends
        func isSingle(_ k: Int) -> Bool {
            Normalizer.isSingle(at: k, n: n, scalars: scalars, classes: classes)
        }
        var removedAny = false
        var i = 0
        while i + 4 < n {
            guard classes[i + 1] & CharClass.separator != 0, isSingle(i) else {
                i &+= 1
                continue
            }
            let separator = scalars[i + 1]
            var last = i
            var letters = classes[i] & CharClass.letter != 0 ? 1 : 0
            var singles = 1
            while last + 2 < n, scalars[last + 1] == separator, isSingle(last + 2) {
                last += 2
                singles += 1
                if classes[last] & CharClass.letter != 0 { letters += 1 }
            }
            let leet = singles - letters
            guard singles >= 3, letters > 0, letters >= leet else {
                i = last + 1
                continue
            }
            var k = i
            while k <= last {
                if classes[k] & CharClass.letter == 0, let letter = CharClass.leetLetter(scalars[k]) {
                    scalars[k] = UInt32(letter)
                    classes[k] = CharClass.ascii[Int(letter)]
                }
                if k < last {
                    // The separator's span joins the letter before it, so a match on the
                    // joined word maps back over every removed separator.
                    ends[k] = ends[k + 1]
                    scalars[k + 1] = Scratch.removed
                }
                k += 2
            }
            removedAny = true
            i = last + 1
        }
        return removedAny
    }

    /// A one-character word: a letter (or a leet digit/symbol) with no word character either side.
    private static func isSingle(
        at k: Int, n: Int, scalars: UnsafeMutablePointer<UInt32>, classes: UnsafeMutablePointer<UInt8>
    ) -> Bool {
        let cls = classes[k]
        let isCandidate =
            cls & CharClass.letter != 0
            || (CharClass.leetLetter(scalars[k]) != nil && cls & CharClass.separator == 0
                && scalars[k] != 0x21 && scalars[k] != 0x28)
        guard isCandidate else { return false }
        if k > 0, classes[k - 1] & CharClass.wordChar != 0 { return false }
        if k + 1 < n, classes[k + 1] & CharClass.wordChar != 0 { return false }
        return true
    }

    // MARK: - Stage 6 and output: collapse repeats, encode UTF-8

    private mutating func encode(into out: inout NormalizedText) {
        let n = scratch.count
        scratch.resetOutput(minimumCapacity: n &* 4)
        let scalars = scratch.scalars
        let classes = scratch.classes
        let starts = scratch.starts
        let ends = scratch.ends
        var output = scratch.output()
        var i = 0
        while i < n {
            let scalar = scalars[i]
            var end = ends[i]
            var next = i &+ 1
            // Three or more of the same character collapse to one ("fuuuuck", "!!!!!"); two
            // stay ("cool", "ass"). Digits never collapse: "$1000" must not become "$10".
            // Masking stars never collapse either: "f***" says how many letters were hidden,
            // and word lists spell such masks out.
            if next &+ 1 < n, scalars[next] == scalar, scalars[next &+ 1] == scalar,
                classes[i] & CharClass.digit == 0, scalar != 0x2A
            {
                while next < n, scalars[next] == scalar { next &+= 1 }
                end = ends[next &- 1]
            }
            output.emit(scalar: scalar, start: starts[i], end: end)
            i = next
        }
        output.copy(into: &out)
    }
}

// MARK: - Character classes

/// Bit flags describing a normalised character, so every stage decides with one table lookup.
enum CharClass {
    static let letter: UInt8 = 1
    static let digit: UInt8 = 2
    static let leetSymbol: UInt8 = 4
    static let space: UInt8 = 8
    static let separator: UInt8 = 16
    static let hash: UInt8 = 32
    /// Input characters that vanish (controls other than whitespace).
    static let dropped: UInt8 = 128

    static let tokenChar: UInt8 = letter | digit | leetSymbol
    static let wordChar: UInt8 = letter | digit

    /// Class of each ASCII byte after lowercasing.
    static let ascii: [UInt8] = (0..<128).map { classOfASCII(UInt8($0)) }
    /// Lowercase and whitespace-to-space mapping of each ASCII byte.
    static let asciiLower: [UInt8] = (0..<128).map { byte in
        let b = UInt8(byte)
        if b >= 0x41 && b <= 0x5A { return b + 0x20 }
        if classOfASCII(b) & space != 0 { return 0x20 }
        return b
    }

    private static func classOfASCII(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x41...0x5A, 0x61...0x7A: return letter
        case 0x30...0x39: return digit
        case 0x09...0x0D, 0x20: return space | separator
        case 0x00...0x08, 0x0E...0x1F, 0x7F: return dropped
        case UInt8(ascii: "+"): return leetSymbol | separator
        case UInt8(ascii: "@"), UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "|"),
            UInt8(ascii: "("):
            return leetSymbol
        case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "*"),
            UInt8(ascii: "/"), UInt8(ascii: ","), UInt8(ascii: "~"):
            return separator
        case UInt8(ascii: "#"): return hash
        default: return 0
        }
    }

    /// The letter a leet digit or symbol stands for, or nil.
    static func leetLetter(_ scalar: UInt32) -> UInt8? {
        switch scalar {
        case 0x30: return UInt8(ascii: "o")  // 0
        case 0x31: return UInt8(ascii: "i")  // 1
        case 0x33: return UInt8(ascii: "e")  // 3
        case 0x34: return UInt8(ascii: "a")  // 4
        case 0x35: return UInt8(ascii: "s")  // 5
        case 0x37: return UInt8(ascii: "t")  // 7
        case 0x38: return UInt8(ascii: "b")  // 8
        case 0x39: return UInt8(ascii: "g")  // 9
        case 0x40: return UInt8(ascii: "a")  // @
        case 0x24: return UInt8(ascii: "s")  // $
        case 0x21: return UInt8(ascii: "i")  // !
        case 0x7C: return UInt8(ascii: "l")  // |
        case 0x2B: return UInt8(ascii: "t")  // +
        case 0x28: return UInt8(ascii: "c")  // (
        case 0x20AC: return UInt8(ascii: "e")  // €
        case 0xA3: return UInt8(ascii: "l")  // £
        default: return nil
        }
    }
}

// MARK: - Per-scalar mapping cache

/// One output character of a non-ASCII scalar's mapping.
struct ProducedScalar {
    var scalar: UInt32
    var cls: UInt8
}

/// Where a scalar's mapping lives in the pool; `count == 0` means the scalar is dropped.
struct ScalarMapping {
    var poolStart: Int32
    var count: Int32
}

/// Caches what each distinct non-ASCII scalar becomes, so Foundation's NFKC (about 1 µs per
/// call) runs once per scalar per worker rather than once per occurrence.
struct ScalarCache {
    /// Scalars below U+0800 (Latin, Greek, Cyrillic, Hebrew, Arabic) are looked up in a flat
    /// table: a dictionary probe costs ~20 ns, an array index ~1 ns, and these scripts are
    /// where nearly all look-alike obfuscation happens.
    private static let flatLimit: UInt32 = 0x800
    private var flat: [Int32] = Array(repeating: -1, count: Int(ScalarCache.flatLimit))
    private var mappings: [ScalarMapping] = []
    private var others: [UInt32: Int32] = [:]
    private(set) var pool: [ProducedScalar] = []

    mutating func mapping(for value: UInt32) -> ScalarMapping {
        if value < Self.flatLimit {
            let slot = flat[Int(value)]
            if slot >= 0 { return mappings[Int(slot)] }
            let slotIndex = insert(value)
            flat[Int(value)] = slotIndex
            return mappings[Int(slotIndex)]
        }
        if let slot = others[value] { return mappings[Int(slot)] }
        let slotIndex = insert(value)
        others[value] = slotIndex
        return mappings[Int(slotIndex)]
    }

    private mutating func insert(_ value: UInt32) -> Int32 {
        let produced = ScalarCache.compute(value)
        let mapping = ScalarMapping(poolStart: Int32(pool.count), count: Int32(produced.count))
        pool.append(contentsOf: produced)
        mappings.append(mapping)
        return Int32(mappings.count - 1)
    }

    /// Invisible characters that carry no letter; listed explicitly because some of them
    /// (U+180E, U+034F, the variation selectors) have changed category across Unicode versions.
    private static func isInvisible(_ v: UInt32) -> Bool {
        switch v {
        case 0x200B...0x200F, 0x2060...0x2064, 0xFEFF, 0x00AD, 0x180E, 0x034F, 0xFE00...0xFE0F,
            0xE0100...0xE01EF:
            return true
        default:
            return false
        }
    }

    static func compute(_ value: UInt32) -> [ProducedScalar] {
        guard let scalar = Unicode.Scalar(value) else { return [] }
        let props = scalar.properties
        if isInvisible(value) { return [] }
        switch props.generalCategory {
        case .nonspacingMark, .enclosingMark, .format:
            // Format characters include bidi overrides (U+202E), a classic way to hide a word.
            return []
        case .control where !props.isWhitespace:
            return []
        default:
            break
        }
        if props.isWhitespace {
            return [ProducedScalar(scalar: 0x20, cls: CharClass.space | CharClass.separator)]
        }

        let compatible = String(Character(scalar)).precomposedStringWithCompatibilityMapping
        var result: [ProducedScalar] = []
        for composed in compatible.unicodeScalars {
            for lower in composed.properties.lowercaseMapping.unicodeScalars {
                for base in stripAccents(lower) {
                    let mapped = lookAlike(base)
                    result.append(ProducedScalar(scalar: mapped.value, cls: classify(mapped)))
                }
            }
        }
        return result
    }

    /// Reduces a Latin, Greek or Cyrillic letter with diacritics to its base letter ("é"→"e",
    /// "ї"→"і"); letters of other scripts keep their marks-free composed form (NFKD would split
    /// a Hangul syllable into jamo that no word list is written in).
    private static func stripAccents(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        if scalar.value < 0x80 { return [scalar] }
        let category = scalar.properties.generalCategory
        if category == .nonspacingMark || category == .enclosingMark { return [] }
        let decomposed = String(Character(scalar)).decomposedStringWithCompatibilityMapping
        let bases = decomposed.unicodeScalars.filter {
            let c = $0.properties.generalCategory
            return c != .nonspacingMark && c != .enclosingMark
        }
        if !bases.isEmpty, bases.allSatisfy({ isAccentFoldable($0.value) }) {
            return Array(bases)
        }
        return [scalar]
    }

    private static func isAccentFoldable(_ v: UInt32) -> Bool {
        switch v {
        case 0x0000...0x052F,  // Latin, IPA, Greek, Cyrillic
            0x1D00...0x1DBF,  // phonetic extensions
            0x1E00...0x1FFF,  // Latin extended additional, Greek extended
            0x2C60...0x2C7F, 0xA640...0xA69F, 0xA720...0xA7FF, 0xAB30...0xAB6F:
            return true
        default:
            return false
        }
    }

    /// Cyrillic and Greek letters that look like Latin ones: "сunt" typed with a Cyrillic с
    /// must read "cunt". Applied after lowercasing, so only lowercase forms are listed.
    private static func lookAlike(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        let latin: Character
        switch scalar.value {
        case 0x0430, 0x03B1: latin = "a"  // а α
        case 0x0435, 0x03B5: latin = "e"  // е ε
        case 0x043E, 0x03BF: latin = "o"  // о ο
        case 0x0440, 0x03C1: latin = "p"  // р ρ
        case 0x0441: latin = "c"  // с
        case 0x0443: latin = "y"  // у
        case 0x0445, 0x03C7: latin = "x"  // х χ
        case 0x0456, 0x03B9, 0x04CF: latin = "i"  // і ι ӏ
        case 0x0458: latin = "j"  // ј
        case 0x0455: latin = "s"  // ѕ
        case 0x043A, 0x03BA: latin = "k"  // к κ
        case 0x043C: latin = "m"  // м
        case 0x043D, 0x04BB: latin = "h"  // н һ
        case 0x0442, 0x03C4: latin = "t"  // т τ
        case 0x0432: latin = "b"  // в
        case 0x0501: latin = "d"  // ԁ
        case 0x0261: latin = "g"  // ɡ
        case 0x03BD: latin = "v"  // ν
        case 0x03C5: latin = "u"  // υ
        case 0x051B: latin = "q"  // ԛ
        case 0x051D: latin = "w"  // ԝ
        default: return scalar
        }
        return latin.unicodeScalars.first ?? scalar
    }

    private static func classify(_ scalar: Unicode.Scalar) -> UInt8 {
        if scalar.value < 0x80 { return CharClass.ascii[Int(scalar.value)] }
        if scalar.value == 0x20AC || scalar.value == 0xA3 { return CharClass.leetSymbol }
        if scalar.properties.isAlphabetic { return CharClass.letter }
        return 0
    }
}

// MARK: - Scratch buffers

/// Growable per-worker buffers written through raw pointers: `Array.append` with its
/// uniqueness and capacity checks cost about 2x on ASCII posts when there are four arrays.
final class Scratch {
    /// Marks a unit removed by separator joining; U+0000 never survives decoding.
    static let removed: UInt32 = 0

    private(set) var count = 0
    private var capacity = 0
    private(set) var scalars = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private(set) var classes = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    private(set) var starts = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private(set) var ends = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    private var outCount = 0
    private var outCapacity = 0
    private var outBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    private var outStarts = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var outEnds = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    deinit {
        scalars.deallocate()
        classes.deallocate()
        starts.deallocate()
        ends.deallocate()
        outBytes.deallocate()
        outStarts.deallocate()
        outEnds.deallocate()
    }

    func resetUnits(minimumCapacity: Int) {
        count = 0
        if capacity < minimumCapacity { growUnits(to: minimumCapacity) }
    }

    private func growUnits(to wanted: Int) {
        let newCapacity = max(wanted, capacity * 2)
        scalars = Scratch.regrow(scalars, count: count, to: newCapacity)
        classes = Scratch.regrow(classes, count: count, to: newCapacity)
        starts = Scratch.regrow(starts, count: count, to: newCapacity)
        ends = Scratch.regrow(ends, count: count, to: newCapacity)
        capacity = newCapacity
    }

    private static func regrow<T>(
        _ old: UnsafeMutablePointer<T>, count: Int, to capacity: Int
    ) -> UnsafeMutablePointer<T> {
        let new = UnsafeMutablePointer<T>.allocate(capacity: capacity)
        new.moveInitialize(from: old, count: count)
        old.deallocate()
        return new
    }

    /// A local cursor over the unit buffers, so the hot loop works on stack values.
    func units() -> UnitCursor {
        UnitCursor(
            count: count, capacity: capacity, scalars: scalars, classes: classes,
            starts: starts, ends: ends)
    }

    /// Takes back the cursor's count (and pointers, if it grew the buffers).
    func commit(_ cursor: UnitCursor) {
        count = cursor.count
        capacity = cursor.capacity
        scalars = cursor.scalars
        classes = cursor.classes
        starts = cursor.starts
        ends = cursor.ends
    }


    /// Removes units marked `removed` (their spans were already merged into a neighbour).
    func compact() {
        var write = 0
        for read in 0..<count where scalars[read] != Scratch.removed {
            scalars[write] = scalars[read]
            classes[write] = classes[read]
            starts[write] = starts[read]
            ends[write] = ends[read]
            write += 1
        }
        count = write
    }

    func resetOutput(minimumCapacity: Int) {
        outCount = 0
        if outCapacity < minimumCapacity {
            let newCapacity = max(minimumCapacity, outCapacity * 2)
            outBytes.deallocate()
            outStarts.deallocate()
            outEnds.deallocate()
            outBytes = .allocate(capacity: newCapacity)
            outStarts = .allocate(capacity: newCapacity)
            outEnds = .allocate(capacity: newCapacity)
            outCapacity = newCapacity
        }
    }

    /// A local cursor over the output buffers; capacity was reserved by `resetOutput`.
    func output() -> OutputCursor {
        OutputCursor(bytes: outBytes, starts: outStarts, ends: outEnds)
    }
}

/// Unit buffers as stack values for the decoding loop (see `Scratch.units()`).
struct UnitCursor {
    var count: Int
    var capacity: Int
    var scalars: UnsafeMutablePointer<UInt32>
    var classes: UnsafeMutablePointer<UInt8>
    var starts: UnsafeMutablePointer<Int32>
    var ends: UnsafeMutablePointer<Int32>

    @inline(__always)
    mutating func append(scalar: UInt32, cls: UInt8, start: Int32, end: Int32) {
        // Whitespace runs become one space whose span covers the whole run.
        if cls & CharClass.space != 0, count > 0, classes[count &- 1] & CharClass.space != 0 {
            ends[count &- 1] = end
            return
        }
        if count == capacity { grow() }
        scalars[count] = scalar
        classes[count] = cls
        starts[count] = start
        ends[count] = end
        count &+= 1
    }

    /// Moves the units to larger buffers (rare: only NFKC expansions can outgrow the initial
    /// one-unit-per-byte capacity). The scratch takes the new buffers back in `commit`; it
    /// holds no reference to the old ones until then. No reference to the scratch is held
    /// here, which kept a retain and a release on every character.
    @inline(never)
    mutating func grow() {
        let newCapacity = capacity &+ max(64, capacity)
        func regrow<T>(_ old: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let new = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
            new.moveInitialize(from: old, count: count)
            old.deallocate()
            return new
        }
        scalars = regrow(scalars)
        classes = regrow(classes)
        starts = regrow(starts)
        ends = regrow(ends)
        capacity = newCapacity
    }

    /// A dropped character widens the previous output character, or the next one if none yet.
    @inline(__always)
    mutating func drop(at offset: Int32, pendingStart: inout Int32) {
        if count > 0 {
            ends[count &- 1] = offset &+ 1
        } else if pendingStart < 0 {
            pendingStart = offset
        }
    }
}

/// Output buffers as stack values for the encoding loop (see `Scratch.output()`).
struct OutputCursor {
    var count = 0
    let bytes: UnsafeMutablePointer<UInt8>
    let starts: UnsafeMutablePointer<Int32>
    let ends: UnsafeMutablePointer<Int32>

    init(bytes: UnsafeMutablePointer<UInt8>, starts: UnsafeMutablePointer<Int32>, ends: UnsafeMutablePointer<Int32>) {
        self.bytes = bytes
        self.starts = starts
        self.ends = ends
    }

    /// Writes one scalar as UTF-8; every byte of it carries the scalar's span.
    @inline(__always)
    mutating func emit(scalar: UInt32, start: Int32, end: Int32) {
        if scalar < 0x80 {
            bytes[count] = UInt8(truncatingIfNeeded: scalar)
            starts[count] = start
            ends[count] = end
            count &+= 1
            return
        }
        let length: Int
        if scalar < 0x800 {
            bytes[count] = UInt8(truncatingIfNeeded: 0xC0 | (scalar >> 6))
            bytes[count &+ 1] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            length = 2
        } else if scalar < 0x10000 {
            bytes[count] = UInt8(truncatingIfNeeded: 0xE0 | (scalar >> 12))
            bytes[count &+ 1] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F))
            bytes[count &+ 2] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            length = 3
        } else {
            bytes[count] = UInt8(truncatingIfNeeded: 0xF0 | (scalar >> 18))
            bytes[count &+ 1] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 12) & 0x3F))
            bytes[count &+ 2] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F))
            bytes[count &+ 3] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            length = 4
        }
        for k in 0..<length {
            starts[count &+ k] = start
            ends[count &+ k] = end
        }
        count &+= length
    }

    func copy(into out: inout NormalizedText) {
        out.bytes.removeAll(keepingCapacity: true)
        out.scalarStart.removeAll(keepingCapacity: true)
        out.scalarEnd.removeAll(keepingCapacity: true)
        out.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
        out.scalarStart.append(contentsOf: UnsafeBufferPointer(start: starts, count: count))
        out.scalarEnd.append(contentsOf: UnsafeBufferPointer(start: ends, count: count))
    }
}
