/// How a text becomes the features a `TextModel` weighs: hashed word unigrams, word bigrams
/// and character n-grams of each word, read from the *normalised* text (the `Normalizer`'s
/// output), so that "Y0U  R  4N 1D10T" and "you are an idiot" give the same features.
///
/// Hashing instead of a vocabulary keeps the model a flat array of weights: scoring is one
/// pass over the bytes with an array load per feature and no dictionary, which is what keeps
/// a score near a thousand instructions a post (docs/ACCURACY.md, "Speed"). Character n-grams
/// are packed into an integer as the bytes go by (n ≤ 7), so they cost a shift and a multiply
/// each; they catch inflections and spellings a word list never lists ("idiots", "moronic").
/// Digits are all read as 0, so "07700 900123" and "08081 570980" are the same shape.
public struct FeatureConfig: Sendable, Equatable {
    /// The weight table has 2^bucketBits entries.
    public var bucketBits: Int
    /// Length of the character n-grams, including the word-boundary marks; 0 for none.
    public var charGram: Int
    /// Whether pairs of neighbouring words are features.
    public var wordBigrams: Bool

    public init(bucketBits: Int = 18, charGram: Int = 4, wordBigrams: Bool = true) {
        self.bucketBits = bucketBits
        self.charGram = charGram
        self.wordBigrams = wordBigrams
    }

    /// Allowed ranges, checked when a model file is read or a model is trained.
    static let bucketBitsRange = 10...24
    static let charGramRange = 0...7

    var isValid: Bool { Self.bucketBitsRange.contains(bucketBits) && Self.charGramRange.contains(charGram) }
}

/// Which part of the text a feature came from, for `warden explain`.
enum FeatureKind {
    case word, bigram, charGram
}

enum TextFeatures {
    /// Bytes that belong to a word in the normalised text: ASCII letters, digits, the
    /// apostrophe inside contractions, and every byte of a non-ASCII character.
    @inline(__always)
    static func isWordByte(_ byte: UInt8) -> Bool {
        (byte &- 0x61) < 26 || (byte &- 0x30) < 10 || byte >= 0x80 || byte == 0x27 || (byte &- 0x41) < 26
    }

    @inline(__always)
    static func bucket(_ value: UInt64, salt: UInt64, shift: UInt64) -> Int {
        var x = value ^ salt
        x ^= x >> 31
        x &*= 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: x >> shift)
    }

    static let wordSalt: UInt64 = 0x5157_4F52_4400_0001
    static let bigramSalt: UInt64 = 0x4249_4752_414D_0002
    static let charSalt: UInt64 = 0x4348_4152_0000_0003

    /// Calls `body(bucket, kind, wordStart, end)` for every feature of `text`, in order.
    /// `wordStart..<end` is the word (or, for a bigram, both words) the feature belongs to;
    /// for a character n-gram, `end` is where the n-gram ends inside the word.
    @inline(__always)
    static func forEach(
        in text: UnsafeBufferPointer<UInt8>, config: FeatureConfig,
        _ body: (_ bucket: Int, _ kind: FeatureKind, _ wordStart: Int, _ end: Int) -> Void
    ) {
        let shift = UInt64(64 - config.bucketBits)
        let n = config.charGram
        let gramMask: UInt64 = n == 0 ? 0 : (n >= 8 ? ~0 : (UInt64(1) << UInt64(8 * n)) - 1)
        var inWord = false
        var hash: UInt64 = 0
        var packed: UInt64 = 0
        var length = 0
        var wordStart = 0
        var previous: UInt64 = 0
        var previousStart = -1
        var index = 0
        let count = text.count

        @inline(__always)
        func endWord(at end: Int) {
            if n > 0 && length + 2 >= n {
                packed = (packed << 8) | 0x03
                body(bucket(packed & gramMask, salt: charSalt, shift: shift), .charGram, wordStart, end)
            }
            body(bucket(hash, salt: wordSalt, shift: shift), .word, wordStart, end)
            if config.wordBigrams && previousStart >= 0 {
                body(bucket(previous &* 0x100_0000_01B3 ^ hash, salt: bigramSalt, shift: shift), .bigram, previousStart, end)
            }
            previous = hash
            previousStart = wordStart
            inWord = false
        }

        while index < count {
            var byte = text[index]
            if isWordByte(byte) {
                // Every digit reads as 0: a number's shape (a phone, a price, a short code)
                // generalises, its digits do not.
                if (byte &- 0x31) < 9 { byte = 0x30 }
                if !inWord {
                    inWord = true
                    hash = 0xcbf2_9ce4_8422_2325
                    packed = 0x02
                    length = 0
                    wordStart = index
                }
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                packed = (packed << 8) | UInt64(byte)
                length += 1
                if n > 0 && length + 1 >= n {
                    body(bucket(packed & gramMask, salt: charSalt, shift: shift), .charGram, wordStart, index + 1)
                }
            } else if inWord {
                endWord(at: index)
            }
            index += 1
        }
        if inWord { endWord(at: count) }
    }

    /// Every feature's bucket, for training (duplicates kept: a feature seen twice counts twice).
    static func buckets(of text: UnsafeBufferPointer<UInt8>, config: FeatureConfig) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(text.count + 8)
        forEach(in: text, config: config) { bucket, _, _, _ in out.append(UInt32(truncatingIfNeeded: bucket)) }
        return out
    }

    /// The most features a text of `byteCount` bytes can give: at most one character n-gram
    /// per byte, and a word, a bigram and a closing n-gram per word, with at most one word per
    /// two bytes (words are separated).
    static func maximumCount(byteCount: Int) -> Int { byteCount + 3 * ((byteCount + 1) / 2) + 1 }

    /// 1/‖c‖₂, where c is the text's vector of feature counts: what every feature's weight is
    /// multiplied by before the sigmoid, in scoring and in training alike.
    ///
    /// When no feature repeats, ‖c‖₂ = √(number of features), as model version 1 scaled.
    /// Scaling by the norm of the counts rather than by their number is what makes a text
    /// repeated n times score as one copy does (n times every count, n times the norm):
    /// version 1 let 100 kB of one ordinary sentence saturate the personal-attack model.
    @inline(__always)
    static func scale(squaredNorm: Int) -> Float {
        squaredNorm == 0 ? 0 : 1 / Float(squaredNorm).squareRoot()
    }

    /// Σ count² over the distinct buckets of `buckets` (for training, where the buckets are kept).
    static func squaredNorm(of buckets: [UInt32], config: FeatureConfig) -> Int {
        RepeatCounter.with(featureBound: buckets.count, bucketBits: config.bucketBits) { counter in
            for bucket in buckets { counter.add(Int(bucket)) }
            return counter.squaredNorm
        }
    }
}

/// Counts the repeats of each feature in one text, to give Σ count² (`TextFeatures.scale`)
/// in the same pass that sums the weights.
///
/// Hand-written rather than a `Dictionary`: a score runs once per model on every post, and
/// this is an open-addressing table in a temporary (stack, for posts of a few hundred bytes)
/// allocation, sized for at most half full, with no hashing beyond the bucket itself (buckets
/// are already uniformly hashed) and no allocation to free.
struct RepeatCounter {
    /// Each slot is (bucket + 1) << 32 | count; 0 is empty.
    private let slots: UnsafeMutableBufferPointer<UInt64>
    private let mask: Int
    /// Σ count² so far: each occurrence of a bucket seen c times before adds 2c + 1.
    private(set) var squaredNorm = 0
    /// When the table is the caller's (`reusing`): the slots filled, to clear them afterwards.
    private let filled: UnsafeMutablePointer<Int32>?
    private var filledCount = 0

    private init(slots: UnsafeMutableBufferPointer<UInt64>, filled: UnsafeMutablePointer<Int32>? = nil) {
        self.slots = slots
        mask = slots.count - 1
        self.filled = filled
    }

    /// Runs `body` with a counter for at most `featureBound` features of a model with
    /// 2^`bucketBits` buckets.
    @inline(__always)
    static func with<R>(featureBound: Int, bucketBits: Int, _ body: (inout RepeatCounter) -> R) -> R {
        let distinct = min(max(featureBound, 1), 1 << bucketBits)
        var capacity = 64
        while capacity < 2 * distinct { capacity <<= 1 }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: capacity) { slots in
            slots.initialize(repeating: 0)
            var counter = RepeatCounter(slots: slots)
            return body(&counter)
        }
    }

    /// As `with`, over `table`, which the caller keeps between texts (all zero between calls):
    /// grown when a text needs more, and left all zero by clearing only the slots this text
    /// filled. Clearing a fresh 8 KiB table per post was a third of a post's scoring cost
    /// (6,100 instructions a post on real traffic under callgrind, docs/PERFORMANCE.md).
    @inline(__always)
    static func reusing<R>(_ table: inout [UInt64], featureBound: Int, bucketBits: Int, _ body: (inout RepeatCounter) -> R) -> R {
        let features = max(featureBound, 1)
        let distinct = min(features, 1 << bucketBits)
        var capacity = 64
        while capacity < 2 * distinct { capacity <<= 1 }
        if table.count < capacity { table = Array(repeating: 0, count: capacity) }
        return table.withUnsafeMutableBufferPointer { slots in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: distinct) { filled in
                var counter = RepeatCounter(slots: slots, filled: filled.baseAddress)
                let result = body(&counter)
                for k in 0..<counter.filledCount { slots[Int(filled[k])] = 0 }
                return result
            }
        }
    }

    @inline(__always)
    mutating func add(_ bucket: Int) {
        let key = UInt64(truncatingIfNeeded: bucket + 1) << 32
        var index = bucket & mask
        while true {
            let slot = slots[index]
            if slot == 0 {
                slots[index] = key | 1
                squaredNorm += 1
                if let filled {
                    filled[filledCount] = Int32(truncatingIfNeeded: index)
                    filledCount += 1
                }
                return
            }
            if slot & 0xFFFF_FFFF_0000_0000 == key {
                slots[index] = slot + 1
                squaredNorm += 2 * Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) + 1
                return
            }
            index = (index + 1) & mask
        }
    }
}
