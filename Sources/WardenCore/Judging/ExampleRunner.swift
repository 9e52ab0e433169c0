import Foundation

/// Runs every rule's examples: the test suite a moderator writes alongside each rule.
public enum ExampleRunner {
    /// One example that did not behave as written.
    public struct Failure: Sendable {
        public var rule: Rule
        public var example: RuleExample
        /// What the rule matched, for a `no_match` example that matched.
        public var matched: [String]
        /// Why PCRE2 gave up, if it did.
        public var limit: String?

        /// One line naming the rule, the example and what matched.
        public var summary: String {
            let text = PostParser.quoted(example.text)
            if let limit { return "rule \(rule.id): example \(text) hit a matching limit (\(limit))" }
            if example.shouldMatch { return "rule \(rule.id) should match \(text) but did not" }
            let found = matched.isEmpty ? "" : " (matched " + matched.map { "\"\($0)\"" }.joined(separator: ", ") + ")"
            return "rule \(rule.id) should not match \(text) but did\(found)"
        }
    }

    public struct Report: Sendable {
        public var examples: Int
        public var failures: [Failure]
        /// Rules without any example, which `warden test` reports.
        public var rulesWithoutExamples: [String]
    }

    /// Judges each example as a fresh post by a fresh author, repeated as the example asks.
    public static func run(_ ruleSet: RuleSet, organisation: Organisation = Organisation(), only ruleIDs: Set<String>? = nil) -> Report {
        let judge = Judge(ruleSet: ruleSet, organisation: organisation)
        var failures: [Failure] = []
        var count = 0
        var withoutExamples: [String] = []
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for (index, rule) in ruleSet.rules.enumerated() {
            if let ruleIDs, !ruleIDs.contains(rule.id) { continue }
            if rule.examples.isEmpty { withoutExamples.append(rule.id) }
            for example in rule.examples {
                count += 1
                let history = InMemoryHistory()
                let post = Post(id: "example", authorID: "example-author", authorName: "Sam", text: example.text)
                var evaluation = judge.evaluate(post, history: history, now: start)
                for step in 1..<max(example.repeatCount, 1) {
                    history.record(author: post.authorID, textDigest: evaluation.textDigest, at: start.addingTimeInterval(Double(step - 1)))
                    evaluation = judge.evaluate(post, history: history, now: start.addingTimeInterval(Double(step)))
                }
                let result = evaluation.result(forRule: index)
                let matched = result?.matched ?? false
                if let limit = result?.limit {
                    failures.append(Failure(rule: rule, example: example, matched: [], limit: limit))
                } else if matched != example.shouldMatch {
                    let scalars = Array(example.text.unicodeScalars)
                    let texts = (result?.spans ?? []).map { span in
                        String(String.UnicodeScalarView(scalars[min(span.lowerBound, scalars.count)..<min(span.upperBound, scalars.count)]))
                    }
                    failures.append(Failure(rule: rule, example: example, matched: texts, limit: nil))
                }
            }
        }
        return Report(examples: count, failures: failures, rulesWithoutExamples: withoutExamples)
    }
}
