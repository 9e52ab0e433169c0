/// Learned models that read the same features (one `FeatureConfig`), scored together: the
/// post's features are hashed once, and each feature's weights for every model of the group
/// sit side by side, so one pass over the text and one cache line per feature give every
/// score.
///
/// The shipped rules score four models (complaint, personal_attack, praise, spam) on every
/// post. Scored one by one they cost 66,000 instructions a post on the real-traffic corpus:
/// four feature passes, four repeat counters, four 1 MiB weight tables missed in the cache;
/// together about 15,000 (docs/PERFORMANCE.md, issue 15). Each model's sum is added up in the
/// same order, feature by feature, as `TextModel.score` adds it, so every score is the same
/// to the last bit and no decision can change.
struct ModelGroup: Sendable {
    var features: FeatureConfig
    /// Indices into `RuleSet.models`, in the order of the lanes.
    var members: [Int]
    var biases: [Float]
    /// SIMD4 vectors per bucket: member k's weight for bucket b is lane k % 4 of
    /// `weights[b * vectors + k / 4]` (unused lanes weigh 0).
    var vectors: Int
    var weights: [SIMD4<Float>]

    /// One group per distinct feature configuration, in order of first appearance.
    static func grouping(_ models: [TextModel]) -> [ModelGroup] {
        var configs: [FeatureConfig] = []
        for model in models where !configs.contains(model.features) { configs.append(model.features) }
        return configs.map { config in
            let members = models.indices.filter { models[$0].features == config }
            let vectors = (members.count + 3) / 4
            let buckets = 1 << config.bucketBits
            var weights = [SIMD4<Float>](repeating: .zero, count: buckets * vectors)
            for (k, member) in members.enumerated() {
                let table = models[member].weights
                for bucket in 0..<min(buckets, table.count) {
                    weights[bucket * vectors + k / 4][k % 4] = table[bucket]
                }
            }
            return ModelGroup(features: config, members: members, biases: members.map { models[$0].bias }, vectors: vectors, weights: weights)
        }
    }

    /// Writes every member's score for already-normalised `text` to `scores[member]`.
    func score(normalized text: UnsafeBufferPointer<UInt8>, into scores: inout [Double]) {
        var table: [UInt64] = []
        score(normalized: text, into: &scores, repeatTable: &table)
    }

    /// As above, counting repeats in `repeatTable`, which the caller keeps between posts
    /// (empty at first; `RepeatCounter.reusing`).
    func score(normalized text: UnsafeBufferPointer<UInt8>, into scores: inout [Double], repeatTable: inout [UInt64]) {
        let bound = TextFeatures.maximumCount(byteCount: text.count)
        let vectors = self.vectors
        withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: vectors) { sums in
            sums.initialize(repeating: .zero)
            let squaredNorm = RepeatCounter.reusing(&repeatTable, featureBound: bound, bucketBits: features.bucketBits) { counter in
                weights.withUnsafeBufferPointer { w in
                    if vectors == 1 {
                        // Up to four models, the shipped rules' case: one vector load and add a feature.
                        var sum = SIMD4<Float>.zero
                        TextFeatures.forEach(in: text, config: features) { bucket, _, _, _ in
                            sum += w[bucket]
                            counter.add(bucket)
                        }
                        sums[0] = sum
                    } else {
                        TextFeatures.forEach(in: text, config: features) { bucket, _, _, _ in
                            let base = bucket * vectors
                            for v in 0..<vectors { sums[v] += w[base + v] }
                            counter.add(bucket)
                        }
                    }
                }
                return counter.squaredNorm
            }
            for (k, member) in members.enumerated() {
                scores[member] = TextModel.probability(bias: biases[k], sum: sums[k / 4][k % 4], squaredNorm: squaredNorm)
            }
        }
    }
}
