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
    /// Learned models named by `score` conditions (`rules/models/*.model`), indexed by `ScoreCondition.modelIndex`.
    public private(set) var models: [TextModel]
    /// The models grouped by the features they read, each group scored in one pass (`ModelGroup`).
    var modelGroups: [ModelGroup]
    /// Per model, its group in `modelGroups`.
    var groupOfModel: [Int]

    var plan: MatchPlan

    public var ruleIDs: [String] { rules.map(\.id) }

    /// How the pre-filter covers the patterns, for `warden check --print-patterns`.
    public var planSummary: String {
        func line(_ name: String, _ view: MatchPlan.ViewPlan) -> String {
            let total = view.gated.count + view.ungated.count
            return "\(name) text: \(view.gated.count) of \(total) patterns run only when their required words occur (\(view.literalCount) literals\(view.literalScan.map { ", " + $0.sizeSummary } ?? ""))"
                + (view.ungated.isEmpty ? "" : "; run on every post: " + view.ungated.map { "\(rules[$0.rule].id) [\($0.pattern.location)]" }.joined(separator: ", "))
        }
        return line("normalised", plan.normalized) + "\n" + line("original", plan.original)
    }

    /// The literals one of which must occur in a post for `pattern` to run, sorted; nil when
    /// it runs on every post.
    public func gateLiterals(of pattern: RulePattern) -> [String]? {
        MatchPlan.gate(for: pattern).map { gate in
            ([gate.literals] + gate.also).map { set in set.sorted().map(\.description).joined(separator: " | ") }
        }
    }

    /// What must occur in a post for `pattern` to run, in one line: `[a | b] and [c]`, then
    /// any branch gates (`; and one branch's: ([a] and [c]) or ([b])`), or `(every post)`.
    /// `warden check --print-patterns` and `warden scan --profile` both show it.
    public func gateDescription(of pattern: RulePattern) -> String {
        func all(_ sets: [String]) -> String { sets.map { "[\($0)]" }.joined(separator: " and ") }
        guard let sets = gateLiterals(of: pattern) else { return "(every post)" }
        let branches = branchGateLiterals(of: pattern)
        return all(sets) + (branches.isEmpty ? "" : "; and one branch's: " + branches.map { "(" + all($0) + ")" }.joined(separator: " or "))
    }

    /// Per top-level branch of `pattern`, the literal sets a match through that branch needs
    /// (each set as `gateLiterals` shows one); empty when the pattern has no branch gate.
    public func branchGateLiterals(of pattern: RulePattern) -> [[String]] {
        (MatchPlan.gate(for: pattern)?.branches ?? []).map { branch in
            branch.map { set in set.sorted().map(\.description).joined(separator: " | ") }
        }
    }

    public func guideline(of rule: Rule) -> Guideline { guidelines[rule.guidelineIndex] }

    public func rule(id: String) -> Rule? { rules.first { $0.id == id } }

    /// `rules`' score conditions must already point into `models` (`LoadContext.loadModels`).
    init(guidelines: [Guideline], rules: [Rule], escalation: EscalationPolicy, digest: String, directory: String, warnings: [Diagnostic],
         models: [TextModel] = [], gatePatterns: Bool = true) {
        self.guidelines = guidelines
        self.rules = rules
        self.escalation = escalation
        self.digest = digest
        self.directory = directory
        self.warnings = warnings
        self.models = models
        let groups = ModelGroup.grouping(models)
        var groupOfModel = Array(repeating: 0, count: models.count)
        for (g, group) in groups.enumerated() {
            for member in group.members { groupOfModel[member] = g }
        }
        self.modelGroups = groups
        self.groupOfModel = groupOfModel
        self.plan = MatchPlan(rules: rules, guidelines: guidelines, groupOfModel: groupOfModel, gatePatterns: gatePatterns)
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
        var ownerStart: [Int32] = [0]
        var owners: [Int32] = []
        var literalCount: Int { ownerStart.count - 1 }
        var gated: [Entry] = []
        /// The further literal sets each gated pattern needs (`LiteralPrefixes.Requirement.also`):
        /// pattern `g` needs sets `patternAlsoStart[g]..<patternAlsoStart[g + 1]`; set `k` is the
        /// literal numbers `alsoLiterals[alsoStart[k]..<alsoStart[k + 1]]`, one of which must occur.
        var patternAlsoStart: [Int32] = [0]
        var alsoStart: [Int32] = [0]
        var alsoLiterals: [Int32] = []
        /// The top-level branches of each gated pattern (`LiteralPrefixes.Requirement.branches`):
        /// pattern `g` has branches `patternBranchStart[g]..<patternBranchStart[g + 1]`, and branch
        /// `b` needs every set `branchSetStart[b]..<branchSetStart[b + 1]` (sets as in `alsoStart`).
        /// A pattern with none has no branch gate.
        var patternBranchStart: [Int32] = [0]
        var branchSetStart: [Int32] = [0]
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
    /// Rules with matchers whose cheap conditions are checked before their patterns run, in
    /// `Judge.judge` only (`warden explain` and `warden test` show every match): a pattern
    /// cannot change the verdict of a rule whose conditions already fail. Cheap means the text
    /// statistics, measured on every post anyway, and a `score` whose model's group is scored
    /// on every post anyway (`scoreFirst`). Empty when ungated, so that `WARDEN_PLAN=ungated`
    /// is the reference to compare decisions with.
    ///
    /// A skipped pattern cannot hit PCRE2's match limit: a post that would have been held
    /// because an excluded rule gave up is judged on the other rules (docs/PERFORMANCE.md).
    var conditionsFirst: [Int] = []
    /// Per rule, whether its `score` condition is among the cheap ones (see `conditionsFirst`).
    var scoreFirst: [Bool] = []

    /// The literal number that stands for "the text has a digit" in `alsoLiterals`.
    static let digitLiteral = Int32.max

    /// `gatePatterns: false` (MatchingOptions) runs every pattern on every post, and checks no
    /// condition first: for measuring the gate against it.
    init(rules: [Rule], guidelines: [Guideline], groupOfModel: [Int] = [], gatePatterns: Bool = true) {
        var requirements: [TextView: [LiteralPrefixes.Requirement]] = [.normalized: [], .original: []]
        var detectorSet = Set<DetectorKind>()
        for (ruleIndex, rule) in rules.enumerated() {
            for pattern in rule.allPatterns {
                let allow = pattern.usesAllowList ? guidelines[rule.guidelineIndex].allow : []
                let entry = Entry(rule: ruleIndex, pattern: pattern, exempt: rule.conditions.exceptAuthors, allow: allow)
                let requirement = gatePatterns ? Self.gate(for: pattern) : nil
                switch (pattern.view, requirement) {
                case (.normalized, let requirement?):
                    requirements[.normalized, default: []].append(requirement)
                    normalized.gated.append(entry)
                case (.original, let requirement?):
                    requirements[.original, default: []].append(requirement)
                    original.gated.append(entry)
                case (.normalized, nil): normalized.ungated.append(entry)
                case (.original, nil): original.ungated.append(entry)
                }
            }
            detectorSet.formUnion(rule.detectors)
            for kind in Set(rule.detectors) { detectorRules[kind, default: []].append(ruleIndex) }
            if !rule.hasMatchers && !rule.conditions.isEmpty { conditionOnlyRules.append(ruleIndex) }
        }
        detectors = DetectorKind.allCases.filter(detectorSet.contains)
        if gatePatterns { planConditionsFirst(rules, groupOfModel: groupOfModel) }
        // The normalised text is lowercase, as are the literals: a case-sensitive scan is
        // exact there and faster. The original text needs a caseless one.
        Self.buildScan(requirements[.normalized] ?? [], caseless: false, into: &normalized)
        Self.buildScan(requirements[.original] ?? [], caseless: true, into: &original)
    }

    /// Fills `conditionsFirst` and `scoreFirst`.
    private mutating func planConditionsFirst(_ rules: [Rule], groupOfModel: [Int]) {
        // A model group is scored on every post when a rule of conditions alone asks for one of
        // its models before any other condition can fail (`Judge.conditionsHold`'s order).
        var scoredAnyway = Set<Int>()
        for index in conditionOnlyRules {
            let conditions = rules[index].conditions
            guard let score = conditions.score, !conditions.hasTextConditions,
                  groupOfModel.indices.contains(score.modelIndex) else { continue }
            scoredAnyway.insert(groupOfModel[score.modelIndex])
        }
        scoreFirst = Array(repeating: false, count: rules.count)
        for (index, rule) in rules.enumerated() where rule.hasMatchers {
            let conditions = rule.conditions
            if let score = conditions.score, groupOfModel.indices.contains(score.modelIndex),
               scoredAnyway.contains(groupOfModel[score.modelIndex]) {
                scoreFirst[index] = true
            }
            if conditions.hasTextConditions || scoreFirst[index] { conditionsFirst.append(index) }
        }
    }

    /// The literals that gate `pattern`, or nil when it runs on every post.
    static func gate(for pattern: RulePattern) -> LiteralPrefixes.Requirement? {
        guard let requirement = pattern.requiredLiterals else { return nil }
        // The automaton folds ASCII case only: a caseless pattern whose literal has other
        // letters (É, Ω) could match a case variant the automaton would not see. Such sets
        // are dropped; if the primary one goes, the best remaining set takes its place.
        func usable(_ literals: Set<LiteralPrefixes.Literal>) -> Bool { !literals.contains { $0.text.utf8.contains { $0 >= 0x80 } } }
        // Branch gates are new (issue 15) and keep ASCII sets only whatever the case option:
        // an inline (?i) makes a pattern caseless in part, and lowercasing İ changes its bytes.
        let kept = requirement.branches.map { $0.filter(usable) }
        let branches = kept.contains(where: \.isEmpty) || !kept.contains(where: { $0.count > 1 }) ? [] : kept
        guard pattern.pattern.isCaseless else {
            return LiteralPrefixes.Requirement(literals: requirement.literals, atStart: requirement.atStart, also: requirement.also, branches: branches)
        }
        if usable(requirement.literals) {
            return LiteralPrefixes.Requirement(
                literals: requirement.literals, atStart: requirement.atStart, also: requirement.also.filter(usable), branches: branches)
        }
        guard let promoted = requirement.also.firstIndex(where: { usable($0) && !$0.contains(LiteralPrefixes.digit) }) else { return nil }
        let also = requirement.also[(promoted + 1)...].filter(usable)
        return LiteralPrefixes.Requirement(literals: requirement.also[promoted], atStart: false, also: Array(also), branches: branches)
    }

    /// Builds the literal automaton over every gated pattern's literals, and the tables that
    /// say which patterns each literal may start and which further sets each pattern needs.
    private static func buildScan(_ requirements: [LiteralPrefixes.Requirement], caseless: Bool, into plan: inout ViewPlan) {
        guard !requirements.isEmpty else { return }
        var all = Set<LiteralPrefixes.Literal>()
        for requirement in requirements {
            all.formUnion(requirement.literals)
            for clause in requirement.also { all.formUnion(clause) }
            for branch in requirement.branches { for clause in branch { all.formUnion(clause) } }
        }
        all.remove(LiteralPrefixes.digit)  // checked by the judge, not scanned for
        let ordered = all.sorted()
        var number = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1, Int32($0)) })
        number[LiteralPrefixes.digit] = MatchPlan.digitLiteral
        var owners = Array(repeating: [Int32](), count: ordered.count)
        for (gated, requirement) in requirements.enumerated() {
            for literal in requirement.literals { owners[Int(number[literal]!)].append(Int32(gated)) }
            for clause in requirement.also {
                plan.alsoLiterals += clause.sorted().map { number[$0]! }
                plan.alsoStart.append(Int32(plan.alsoLiterals.count))
            }
            plan.patternAlsoStart.append(Int32(plan.alsoStart.count - 1))
            plan.gatedAtStart.append(requirement.atStart)
        }
        // Branch sets go after every pattern's further sets, so that `patternAlsoStart` still
        // names each pattern's own.
        plan.branchSetStart = [Int32(plan.alsoStart.count - 1)]
        for requirement in requirements {
            for branch in requirement.branches {
                for clause in branch {
                    plan.alsoLiterals += clause.sorted().map { number[$0]! }
                    plan.alsoStart.append(Int32(plan.alsoLiterals.count))
                }
                plan.branchSetStart.append(Int32(plan.alsoStart.count - 1))
            }
            plan.patternBranchStart.append(Int32(plan.branchSetStart.count - 1))
        }
        for list in owners {
            plan.owners += list
            plan.ownerStart.append(Int32(plan.owners.count))
        }
        plan.literalScan = LiteralAutomaton(
            literals: ordered.map { Array($0.text.utf8) }, foldASCIICase: caseless,
            edges: ordered.map { LiteralAutomaton.Edges(start: $0.wordStart, end: $0.wordEnd) })
    }
}
