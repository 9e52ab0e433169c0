import Foundation

/// Trains a `TextModel` by logistic regression with AdaGrad steps, deterministically.
///
/// Same examples in the same order, same settings and seed: the same weights, bit for bit,
/// on the same machine. Nothing depends on time, threads, hash-table order or the allocator:
/// the examples are visited in an order drawn from a SplitMix64 generator seeded with `seed`,
/// and every sum is taken in a fixed order. That is what lets `make models` rebuild the
/// shipped models byte for byte.
public struct Trainer: Sendable {
    public struct Settings: Sendable, Equatable {
        public var features = FeatureConfig()
        public var epochs = 8
        public var learningRate: Float = 0.3
        /// L2 penalty applied to the weights an example touches.
        public var l2: Float = 1e-6
        /// Weight of a positive example's loss (above 1 when positives are rare).
        public var positiveWeight: Float = 1
        public var seed: UInt64 = 13

        public init() {}
    }

    /// One labelled text, already turned into feature buckets.
    public struct Example: Sendable {
        var buckets: [UInt32]
        /// What each bucket's weight is multiplied by (`TextFeatures.scale`), as in scoring.
        var scale: Float
        public var positive: Bool
    }

    public var settings: Settings

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Normalises `text` and extracts its features (one `Normalizer` per call site, reused).
    public func example(_ text: String, positive: Bool, normalizer: inout Normalizer) -> Example {
        let normalized = normalizer.normalize(text)
        let buckets = normalized.bytes.withUnsafeBufferPointer { TextFeatures.buckets(of: $0, config: settings.features) }
        let scale = TextFeatures.scale(squaredNorm: TextFeatures.squaredNorm(of: buckets, config: settings.features))
        return Example(buckets: buckets, scale: scale, positive: positive)
    }

    /// Trains on `examples` for `label`.
    public func train(_ examples: [Example], label: String) -> TextModel {
        let size = 1 << settings.features.bucketBits
        var weights = [Float](repeating: 0, count: size)
        var squares = [Float](repeating: 0, count: size)
        var bias: Float = 0, biasSquares: Float = 0
        let rate = settings.learningRate, l2 = settings.l2
        var random = SplitMix64(seed: settings.seed)
        var order = Array(examples.indices)
        for _ in 0..<settings.epochs {
            // Fisher–Yates with our own generator: the standard library's shuffle may change between releases.
            if order.count > 1 {
                for i in stride(from: order.count - 1, to: 0, by: -1) {
                    let j = Int(random.next() % UInt64(i + 1))
                    order.swapAt(i, j)
                }
            }
            for index in order {
                let example = examples[index]
                let buckets = example.buckets
                let scale = example.scale
                var sum: Float = 0
                for b in buckets { sum += weights[Int(b)] }
                let z = bias + sum * scale
                let p = 1 / (1 + Float.exp(-z))
                let y: Float = example.positive ? 1 : 0
                let g = (p - y) * (example.positive ? settings.positiveWeight : 1)
                for b in buckets {
                    let i = Int(b)
                    let grad = g * scale + l2 * weights[i]
                    squares[i] += grad * grad
                    weights[i] -= rate * grad / (squares[i].squareRoot() + 1e-6)
                }
                biasSquares += g * g
                bias -= rate * g / (biasSquares.squareRoot() + 1e-6)
            }
        }
        return TextModel(label: label, features: settings.features, bias: bias, weights: weights)
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, fast, and the same sequence everywhere,
/// so training is reproducible byte for byte and a failing property test replays exactly.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Float {
    /// e^x for the trainer, clamped so a wild example cannot overflow to infinity.
    static func exp(_ x: Float) -> Float { Float(Foundation.exp(Double(Swift.max(-30, Swift.min(30, x))))) }
}
