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
            return "\(name) text: \(view.gated.count) of \(total) patterns run only when their required words occur (\(view.owners.count) literals)"
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
        self.plan = MatchPlan(rules: rules, guidelines: guidelines)
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
    /// One pattern with what matching it needs, copied here so the hot path never copies a `Rule`.
    struct Entry: Sendable {
        var rule: Int
        var pattern: RulePattern
        /// Authors the rule does not apply to.
        var exempt: Set<String>
        /// The guideline's allow-list, for word and phrase patterns; empty otherwise.
        var allow: Set<String>
    }

    /// Per view: the literal scan, the patterns it gates, and those that always run.
    struct ViewPlan: Sendable {
        /// Finds every gated pattern's literals in one pass.
        var literalScan: LiteralAutomaton?
        /// Indexed by literal number: the gated entries (indices into `gated`) that need that literal.
        var owners: [[Int]] = []
        var gated: [Entry] = []
        /// Whether each gated pattern's matches start at its literal, so it can run from the first one found.
        var gatedAtStart: [Bool] = []
        /// Patterns whose leading literals cannot be proven: they run on every post.
        var ungated: [Entry] = []
        var isEmpty: Bool { gated.isEmpty && ungated.isEmpty }
    }

    var normalized = ViewPlan()
    var original = ViewPlan()
    var detectors: [DetectorKind] = []
    /// The rules using each detector.
    var detectorRules: [DetectorKind: [Int]] = [:]
    /// Rules with conditions and no matchers: judged on every post.
    var conditionOnlyRules: [Int] = []

    /// WARDEN_PLAN=ungated runs every pattern on every post: for measuring the gate against it.
    static let ungatedOnly = ProcessInfo.processInfo.environment["WARDEN_PLAN"] == "ungated"

    init(rules: [Rule], guidelines: [Guideline]) {
        var literals: [TextView: [String: [Int]]] = [.normalized: [:], .original: [:]]
        var detectorSet = Set<DetectorKind>()
        for (ruleIndex, rule) in rules.enumerated() {
            for pattern in rule.allPatterns {
                let allow = pattern.usesAllowList ? guidelines[rule.guidelineIndex].allow : []
                let entry = Entry(rule: ruleIndex, pattern: pattern, exempt: rule.conditions.exceptAuthors, allow: allow)
                var requirement = Self.ungatedOnly ? nil : pattern.requiredLiterals
                // The automaton folds ASCII case only: a caseless pattern whose literal has other
                // letters (É, Ω) could match a case variant the automaton would not see.
                if pattern.pattern.isCaseless, requirement?.literals.contains(where: { $0.utf8.contains { $0 >= 0x80 } }) == true {
                    requirement = nil
                }
                switch (pattern.view, requirement) {
                case (.normalized, let requirement?):
                    for literal in requirement.literals { literals[.normalized, default: [:]][literal, default: []].append(normalized.gated.count) }
                    normalized.gated.append(entry)
                    normalized.gatedAtStart.append(requirement.atStart)
                case (.original, let requirement?):
                    for literal in requirement.literals { literals[.original, default: [:]][literal, default: []].append(original.gated.count) }
                    original.gated.append(entry)
                    original.gatedAtStart.append(requirement.atStart)
                case (.normalized, nil): normalized.ungated.append(entry)
                case (.original, nil): original.ungated.append(entry)
                }
            }
            detectorSet.formUnion(rule.detectors)
            for kind in Set(rule.detectors) { detectorRules[kind, default: []].append(ruleIndex) }
            if !rule.hasMatchers && !rule.conditions.isEmpty { conditionOnlyRules.append(ruleIndex) }
        }
        detectors = DetectorKind.allCases.filter(detectorSet.contains)
        // The normalised text is lowercase, as are the literals: a case-sensitive scan is
        // exact there and faster. The original text needs a caseless one.
        Self.buildScan(literals[.normalized] ?? [:], caseless: false, into: &normalized)
        Self.buildScan(literals[.original] ?? [:], caseless: true, into: &original)
    }

    /// Builds the literal automaton over every gated pattern's literals.
    private static func buildScan(_ literals: [String: [Int]], caseless: Bool, into plan: inout ViewPlan) {
        guard !literals.isEmpty else { return }
        let ordered = literals.keys.sorted()
        plan.owners = ordered.map { literals[$0] ?? [] }
        plan.literalScan = LiteralAutomaton(literals: ordered.map { Array($0.utf8) }, foldASCIICase: caseless)
    }
}
