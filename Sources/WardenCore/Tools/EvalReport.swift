/// Precision, recall and F1 per label over a labelled set, and a confusion table.
public struct EvalReport: Sendable {
    public struct Score: Sendable {
        public var label: String
        public var truePositives = 0
        public var falsePositives = 0
        public var falseNegatives = 0
        public var support = 0

        public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
        public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
        public var f1: Double {
            let p = precision, r = recall
            return p + r == 0 ? 0 : 2 * p * r / (p + r)
        }

        private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
    }

    public var posts = 0
    public var scores: [Score] = []
    /// confusion[true label][predicted label], with "clean" for no label.
    public var confusion: [String: [String: Int]] = [:]
    public var labels: [String] = []
    /// Posts whose decision was an action although they were labelled clean.
    public var cleanActedOn = 0
    public var cleanPosts = 0

    public init() {}

    /// Which labels a decision predicts: a guideline's label when one of its rules sanctioned
    /// the post (or, for guidelines that never sanction such as complaints, acted at all),
    /// and a rule's own name (`complaints.praise` → `praise`) when that rule acted.
    public static func predictedLabels(_ evaluation: Evaluation, ruleSet: RuleSet) -> Set<String> {
        var labels = Set<String>()
        let sanctioning = Set(ruleSet.rules.filter { $0.action.isSanction }.map(\.guidelineIndex))
        for result in evaluation.results where result.matched {
            let rule = ruleSet.rules[result.ruleIndex]
            guard rule.mode == .enforce, rule.action != .allow else { continue }
            if rule.action.isSanction || !sanctioning.contains(rule.guidelineIndex) {
                labels.insert(canonical(ruleSet.guidelines[rule.guidelineIndex].id))
            }
            if let name = rule.id.split(separator: ".").last { labels.insert(canonical(String(name))) }
        }
        return labels
    }

    /// Labels and guideline ids compared loosely: case, `-`/`_` and a plural `s` do not matter.
    public static func canonical(_ label: String) -> String {
        var value = label.lowercased().replacingOccurrences(of: "-", with: "_")
        if value.hasSuffix("s") && value.count > 3 { value.removeLast() }
        return value
    }

    /// Adds one post.
    public mutating func add(labels trueLabels: Set<String>, predicted: Set<String>) {
        posts += 1
        let truth = Set(trueLabels.map(Self.canonical))
        for label in truth where !labels.contains(label) { labels.append(label) }
        if truth.isEmpty {
            cleanPosts += 1
            if !predicted.isEmpty { cleanActedOn += 1 }
        }
        let rows = truth.isEmpty ? ["clean"] : Array(truth)
        let relevantPredictions = predicted.filter { labels.contains($0) }
        let columns = relevantPredictions.isEmpty ? ["clean"] : Array(relevantPredictions)
        for row in rows {
            for column in columns { confusion[row, default: [:]][column, default: 0] += 1 }
        }
        pending.append((truth, predicted))
    }

    private var pending: [(Set<String>, Set<String>)] = []

    /// Computes the scores once every post has been added.
    public mutating func finish() {
        labels.sort()
        scores = labels.map { label in
            var score = Score(label: label)
            for (truth, predicted) in pending {
                let isTrue = truth.contains(label), isPredicted = predicted.contains(label)
                if isTrue { score.support += 1 }
                if isTrue && isPredicted { score.truePositives += 1 }
                if !isTrue && isPredicted { score.falsePositives += 1 }
                if isTrue && !isPredicted { score.falseNegatives += 1 }
            }
            return score
        }
        pending = []
    }
}

import Foundation
