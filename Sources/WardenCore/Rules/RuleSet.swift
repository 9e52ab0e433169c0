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

/// How a rule set searches a post: which patterns are pre-filtered and which always run.
struct MatchPlan: Sendable {
    struct Entry: Sendable {
        var rule: Int
        var pattern: RulePattern
    }

    /// Per view: the combined pre-filter, the patterns it covers, and those it cannot cover.
    struct ViewPlan: Sendable {
        var prefilter: CompiledPattern?
        var covered: [Entry] = []
        var uncovered: [Entry] = []
        var isEmpty: Bool { covered.isEmpty && uncovered.isEmpty }
    }

    var normalized = ViewPlan()
    var original = ViewPlan()
    var detectors: [DetectorKind] = []

    init(rules: [Rule]) {
        var normalizedSources: [String] = []
        var originalSources: [String] = []
        var detectorSet = Set<DetectorKind>()
        for (ruleIndex, rule) in rules.enumerated() {
            for pattern in rule.allPatterns {
                let entry = Entry(rule: ruleIndex, pattern: pattern)
                // Back-references and control verbs change meaning when the pattern is one
                // branch of a larger alternation (group numbers shift, (*COMMIT) would cut the
                // others off), so such patterns always run on their own.
                let combinable = pattern.pattern.backReferenceMax == 0 && !pattern.pattern.source.contains("(*")
                    && !pattern.pattern.source.contains("(?|") && !pattern.pattern.source.contains("\\g")
                    && !pattern.pattern.source.contains("(?P>") && !pattern.pattern.source.contains("(?R")
                    && !pattern.pattern.source.contains("(?&")
                let flags = pattern.pattern.isCaseless ? "(?i)" : "(?-i)"
                switch (pattern.view, combinable) {
                case (.normalized, true):
                    normalized.covered.append(entry)
                    normalizedSources.append("(?:\(flags)(?:\(pattern.pattern.source)))")
                case (.original, true):
                    original.covered.append(entry)
                    originalSources.append("(?:\(flags)(?:\(pattern.pattern.source)))")
                case (.normalized, false):
                    normalized.uncovered.append(entry)
                case (.original, false):
                    original.uncovered.append(entry)
                }
            }
            detectorSet.formUnion(rule.detectors)
        }
        detectors = DetectorKind.allCases.filter(detectorSet.contains)
        normalized.prefilter = Self.combine(normalizedSources, plan: &normalized)
        original.prefilter = Self.combine(originalSources, plan: &original)
    }

    /// Compiles the alternation of `sources`; if it will not compile (it should, each branch
    /// did), every pattern runs on its own rather than losing a rule.
    private static func combine(_ sources: [String], plan: inout ViewPlan) -> CompiledPattern? {
        guard !sources.isEmpty else { return nil }
        do {
            return try CompiledPattern(sources.joined(separator: "|"), caseless: false)
        } catch {
            plan.uncovered += plan.covered
            plan.covered = []
            return nil
        }
    }
}
