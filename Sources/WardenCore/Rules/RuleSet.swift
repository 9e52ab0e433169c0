import Foundation

/// A validated, compiled rules directory: immutable and shared by every worker.
///
/// Besides the guidelines and rules it holds the matching plan: one combined pattern per
/// text view that pre-filters posts. Most posts are clean; for them one JIT pass of the
/// combined pattern proves that no pattern rule can match, so no rule's own pattern runs.
public struct RuleSet: Sendable {
    public var guidelines: [Guideline]
    public var rules: [Rule]
    public var escalation: EscalationPolicy
    /// `sha256:` of every file in the rules directory, recorded in each decision.
    public var digest: String
    /// The directory it was loaded from.
    public var directory: String
    /// Problems that do not stop loading (patterns that may backtrack badly, …).
    public var warnings: [Diagnostic]

    var plan: MatchPlan

    public var ruleIDs: [String] { rules.map(\.id) }

    /// How the pre-filter covers the patterns, for `warden check --print-patterns`.
    public var planSummary: String {
        func line(_ name: String, _ view: MatchPlan.ViewPlan) -> String {
            let total = view.gated.count + view.ungated.count
            return "\(name) text: \(view.gated.count) of \(total) patterns run only when their leading words occur (\(view.owners.count) literals)"
                + (view.ungated.isEmpty ? "" : "; run on every post: " + view.ungated.map { "\(rules[$0.rule].id) [\($0.pattern.location)]" }.joined(separator: ", "))
        }
        return line("normalised", plan.normalized) + "\n" + line("original", plan.original)
    }

    public func guideline(of rule: Rule) -> Guideline { guidelines[rule.guidelineIndex] }

    public func rule(id: String) -> Rule? { rules.first { $0.id == id } }

    init(guidelines: [Guideline], rules: [Rule], escalation: EscalationPolicy, digest: String, directory: String, warnings: [Diagnostic]) {
        self.guidelines = guidelines
        self.rules = rules
        self.escalation = escalation
        self.digest = digest
        self.directory = directory
        self.warnings = warnings
        self.plan = MatchPlan(rules: rules)
    }

    /// A copy in which the given rules run in shadow mode (the daemon's automatic demotion).
    public func demoting(_ ruleIDs: Set<String>) -> RuleSet {
        var copy = self
        for index in copy.rules.indices where ruleIDs.contains(copy.rules[index].id) {
            copy.rules[index].mode = .shadow
        }
        return copy
    }
}

/// How a rule set searches a post: one scan for every pattern's leading literals, then only
/// the patterns whose literals occur (see `LiteralPrefixes`).
struct MatchPlan: Sendable {
    struct Entry: Sendable {
        var rule: Int
        var pattern: RulePattern
    }

    /// Per view: the literal scan, the patterns it gates, and those that always run.
    struct ViewPlan: Sendable {
        /// A prefix tree of every gated pattern's leading literals, with a callout after each.
        var literalScan: CompiledPattern?
        /// Indexed by callout number: the gated entries (indices into `gated`) that start with that literal.
        var owners: [[Int]] = []
        var gated: [Entry] = []
        /// Patterns whose leading literals cannot be proven: they run on every post.
        var ungated: [Entry] = []
        var isEmpty: Bool { gated.isEmpty && ungated.isEmpty }
    }

    var normalized = ViewPlan()
    var original = ViewPlan()
    var detectors: [DetectorKind] = []

    /// WARDEN_PLAN=ungated runs every pattern on every post: for measuring the gate against it.
    static let ungatedOnly = ProcessInfo.processInfo.environment["WARDEN_PLAN"] == "ungated"

    init(rules: [Rule]) {
        var literals: [TextView: [String: [Int]]] = [.normalized: [:], .original: [:]]
        var detectorSet = Set<DetectorKind>()
        for (ruleIndex, rule) in rules.enumerated() {
            for pattern in rule.allPatterns {
                let entry = Entry(rule: ruleIndex, pattern: pattern)
                let prefixes = Self.ungatedOnly ? nil : pattern.literalPrefixes
                switch (pattern.view, prefixes) {
                case (.normalized, let prefixes?):
                    for prefix in prefixes { literals[.normalized, default: [:]][prefix, default: []].append(normalized.gated.count) }
                    normalized.gated.append(entry)
                case (.original, let prefixes?):
                    for prefix in prefixes { literals[.original, default: [:]][prefix, default: []].append(original.gated.count) }
                    original.gated.append(entry)
                case (.normalized, nil): normalized.ungated.append(entry)
                case (.original, nil): original.ungated.append(entry)
                }
            }
            detectorSet.formUnion(rule.detectors)
        }
        detectors = DetectorKind.allCases.filter(detectorSet.contains)
        Self.buildScan(literals[.normalized] ?? [:], into: &normalized)
        Self.buildScan(literals[.original] ?? [:], into: &original)
    }

    /// Compiles the literal scan; if it will not compile, the gated patterns run ungated.
    private static func buildScan(_ literals: [String: [Int]], into plan: inout ViewPlan) {
        guard !literals.isEmpty else { return }
        let ordered = literals.keys.sorted()
        plan.owners = ordered.map { literals[$0] ?? [] }
        let source = LiteralScan.pattern(for: ordered)
        do {
            plan.literalScan = try CompiledPattern(source, caseless: true)
        } catch {
            plan.ungated += plan.gated
            plan.gated = []
            plan.owners = []
        }
    }
}

/// The pattern that finds every occurrence of a set of literals in one pass.
enum LiteralScan {
    /// A prefix tree with a string callout naming the literal after each one that ends, and
    /// `(*FAIL)` at the end so that PCRE2 reports every literal at every position.
    static func pattern(for literals: [String]) -> String {
        final class Node {
            var children: [Unicode.Scalar: Node] = [:]
            var literal: Int?
        }
        let root = Node()
        for (number, literal) in literals.enumerated() {
            var node = root
            for scalar in literal.unicodeScalars {
                if let next = node.children[scalar] { node = next } else {
                    let next = Node()
                    node.children[scalar] = next
                    node = next
                }
            }
            node.literal = number
        }
        func emit(_ node: Node) -> String {
            var out = node.literal.map { $0 < 256 ? "(?C\($0))" : "(?C\"\($0)\")" } ?? ""
            let keys = node.children.keys.sorted { $0.value < $1.value }
            let branches = keys.compactMap { key in node.children[key].map { WordTrie.escape(key) + emit($0) } }
            if branches.count == 1 { out += branches[0] } else if !branches.isEmpty { out += "(?:" + branches.joined(separator: "|") + ")" }
            return out
        }
        return "(?:" + emit(root) + ")(*FAIL)"
    }
}
