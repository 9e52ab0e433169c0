/// Out-of-sample quality of a model: precision, recall and F1 at each threshold, and how
/// well its scores are calibrated (`warden learn --eval`).
public struct ScoreReport: Sendable {
    public struct Row: Sendable {
        public var threshold: Double
        public var truePositives = 0, falsePositives = 0, falseNegatives = 0
        public var precision: Double { truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives) }
        public var recall: Double { truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives) }
        public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    }

    /// One score band: how many posts fell in it, their mean score and the share that were positive.
    public struct Bin: Sendable {
        public var lower: Double, upper: Double
        public var posts = 0
        public var scoreSum = 0.0
        public var positives = 0
        public var meanScore: Double { posts == 0 ? 0 : scoreSum / Double(posts) }
        public var observed: Double { posts == 0 ? 0 : Double(positives) / Double(posts) }
    }

    public var posts = 0
    public var positives = 0
    public var rows: [Row]
    public var bins: [Bin]

    /// Scores `(score, isPositive)` pairs at `thresholds` and in `binCount` equal bands.
    public init(_ scored: [(score: Double, positive: Bool)], thresholds: [Double] = ScoreReport.defaultThresholds, binCount: Int = 10) {
        rows = thresholds.map { Row(threshold: $0) }
        bins = (0..<binCount).map { Bin(lower: Double($0) / Double(binCount), upper: Double($0 + 1) / Double(binCount)) }
        for (score, positive) in scored {
            posts += 1
            if positive { positives += 1 }
            for k in rows.indices {
                let predicted = score >= rows[k].threshold
                if predicted && positive { rows[k].truePositives += 1 }
                if predicted && !positive { rows[k].falsePositives += 1 }
                if !predicted && positive { rows[k].falseNegatives += 1 }
            }
            let bin = min(binCount - 1, max(0, Int(score * Double(binCount))))
            bins[bin].posts += 1
            bins[bin].scoreSum += score
            if positive { bins[bin].positives += 1 }
        }
    }

    public static let defaultThresholds: [Double] =
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.92, 0.94, 0.96, 0.97, 0.98, 0.99]

    /// The lowest threshold whose precision reaches `precision`, if any (and its row).
    public func lowestThreshold(reachingPrecision precision: Double) -> Row? {
        rows.first { $0.precision >= precision && $0.truePositives > 0 }
    }
}
