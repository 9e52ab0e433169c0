import Foundation

/// A trained text classifier for one label: logistic regression over hashed features of the
/// normalised text (`TextFeatures`). `score` is the probability the model gives the label.
///
/// Rules use it through the `score` condition (`when: { score: { model: spam, at_least: 0.9 } }`);
/// `warden learn` trains it; `warden explain` shows the words that weighed most.
public struct TextModel: Sendable {
    /// The label it predicts (`personal_attack`, `spam`, `complaint`, …).
    public var label: String
    public var features: FeatureConfig
    public var bias: Float
    /// One weight per bucket: 2^bucketBits entries.
    var weights: [Float]

    public init(label: String, features: FeatureConfig, bias: Float, weights: [Float]) {
        self.label = label
        self.features = features
        self.bias = bias
        self.weights = weights
    }

    /// The probability of the label for already-normalised text.
    ///
    /// Each feature adds its weight; the sum is scaled by 1/‖counts‖₂ (`TextFeatures.scale`)
    /// so that a long post is not more certain than a short one for saying the same thing
    /// more often, and a post that repeats itself scores as one copy of it.
    public func score(normalized text: UnsafeBufferPointer<UInt8>) -> Double {
        var sum: Float = 0
        let bound = TextFeatures.maximumCount(byteCount: text.count)
        let squaredNorm = RepeatCounter.with(featureBound: bound, bucketBits: features.bucketBits) { counter in
            weights.withUnsafeBufferPointer { w in
                TextFeatures.forEach(in: text, config: features) { bucket, _, _, _ in
                    sum += w[bucket]
                    counter.add(bucket)
                }
            }
            return counter.squaredNorm
        }
        return Self.probability(bias: bias, sum: sum, squaredNorm: squaredNorm)
    }

    /// Normalises `text` and scores it (for tools; the judge reuses its own normalised buffer).
    public func score(_ text: String) -> Double {
        var normalizer = Normalizer()
        let normalized = normalizer.normalize(text)
        return normalized.bytes.withUnsafeBufferPointer { score(normalized: $0) }
    }

    @inline(__always)
    static func probability(bias: Float, sum: Float, squaredNorm: Int) -> Double {
        let z = Double(bias + sum * TextFeatures.scale(squaredNorm: squaredNorm))
        return 1 / (1 + exp(-z))
    }

    /// One word (or pair of words) and how much it moved the score, in the same units as the
    /// sum before the sigmoid: positive pushes towards the label.
    public struct Contribution: Sendable, Equatable {
        public var text: String
        public var weight: Double
    }

    /// The score, and each word's and word pair's contribution, strongest first: a word's
    /// own weight plus its character n-grams'.
    public func explain(_ text: String) -> (score: Double, contributions: [Contribution]) {
        var normalizer = Normalizer()
        let normalized = normalizer.normalize(text)
        return normalized.bytes.withUnsafeBufferPointer { bytes in
            var byWord: [Int: Float] = [:]  // keyed by word start
            var wordEnd: [Int: Int] = [:]
            var pairs: [(Range<Int>, Float)] = []
            var sum: Float = 0
            var all: [UInt32] = []
            TextFeatures.forEach(in: bytes, config: features) { bucket, kind, start, end in
                let w = weights[bucket]
                sum += w
                all.append(UInt32(truncatingIfNeeded: bucket))
                switch kind {
                case .charGram: byWord[start, default: 0] += w
                case .word:
                    byWord[start, default: 0] += w
                    wordEnd[start] = end
                case .bigram: pairs.append((start..<end, w))
                }
            }
            let squaredNorm = TextFeatures.squaredNorm(of: all, config: features)
            let scale = TextFeatures.scale(squaredNorm: squaredNorm)
            func slice(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
            var out: [Contribution] = []
            for (start, w) in byWord {
                guard let end = wordEnd[start] else { continue }
                out.append(Contribution(text: slice(start..<end), weight: Double(w * scale)))
            }
            for (range, w) in pairs { out.append(Contribution(text: slice(range), weight: Double(w * scale))) }
            // Merge repeats of the same word; order by weight, then text, so output is stable.
            var merged: [String: Double] = [:]
            for c in out { merged[c.text, default: 0] += c.weight }
            let sorted = merged.map { Contribution(text: $0.key, weight: $0.value) }
                .sorted { abs($0.weight) != abs($1.weight) ? abs($0.weight) > abs($1.weight) : $0.text < $1.text }
            return (Self.probability(bias: bias, sum: sum, squaredNorm: squaredNorm), sorted)
        }
    }
}
