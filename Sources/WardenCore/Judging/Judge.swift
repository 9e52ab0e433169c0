// Over 400 lines: the judging hot path (plan, pattern runs, conditions, decision) in one type, measured as a whole by `make bench`.
import Foundation

/// The result of running every rule on one post, before it is turned into a decision.
///
/// `warden explain` and `warden test` read it directly: it says which rules matched where,
/// including shadow rules and rules whose conditions failed.
public struct Evaluation: Sendable {
    public struct RuleResult: Sendable {
        public var ruleIndex: Int
        /// Matched spans in Unicode scalars of the original text.
        public var spans: [Range<Int>]
        /// Whether the rule matched as a whole (a matcher found something and every condition held).
        public var matched: Bool
        /// Why PCRE2 gave up on this rule, if it did.
        public var limit: String?
    }

    /// Rules with a match, a condition-only verdict or a limit; other rules are absent.
    public var results: [RuleResult]
    public var stats: TextStats
    public var textDigest: UInt64

    public func result(forRule index: Int) -> RuleResult? { results.first { $0.ruleIndex == index } }
}

/// Judges posts against a rule set. One per worker: it owns the PCRE2 match data and the
/// normaliser's buffers, so judging allocates little and never locks.
public final class Judge {
    public let ruleSet: RuleSet
    public let organisation: Organisation
    private var normalizer = Normalizer()
    private var normalized = NormalizedText()
    private let scratch: MatchScratch
    private var spans: [[Range<Int>]]
    private var limits: [String?]
    private var touched: [Int] = []
    private var findings: [Range<Int>] = []
    private var firstHit: [Int] = []
    private var hitPatterns: [Int] = []
    /// Per literal, the scan (`generation`) that last found it; saves clearing per post.
    private var seenLiteral: [UInt32] = []
    private var generation: UInt32 = 0
    /// Scratch for the literal scan.
    private var normalizedEnds: [UInt64] = []
    private var originalEnds: [UInt64] = []
    /// This post's score per model, or -1 until a `score` condition asks for it.
    private var modelScores: [Double]
    /// The learned scores' repeat-count table, kept between posts (`RepeatCounter.reusing`).
    private var repeatTable: [UInt64] = []
    /// Per rule, whether its cheap conditions already failed on this post (`MatchPlan.conditionsFirst`),
    /// so its patterns do not run; `excludedRules` lists them, to clear.
    private var excluded: [Bool]
    private var excludedRules: [Int] = []

    /// At most this many spans are kept per rule: enough to redact a post, bounded for a hostile one.
    static let maxSpansPerRule = 64

    public init(ruleSet: RuleSet, organisation: Organisation = Organisation(), limits: MatchLimits = MatchLimits()) {
        self.ruleSet = ruleSet
        self.organisation = organisation
        self.scratch = MatchScratch(limits: limits)
        self.spans = Array(repeating: [], count: ruleSet.rules.count)
        self.limits = Array(repeating: nil, count: ruleSet.rules.count)
        self.modelScores = Array(repeating: -1, count: ruleSet.models.count)
        self.excluded = Array(repeating: false, count: ruleSet.rules.count)
    }

    /// Judges `post` and returns the decision (strikes and escalation are the daemon's to add).
    public func judge(_ post: Post, history: some AuthorHistory = NoHistory(), now: Date = Date()) -> Decision {
        let evaluation = evaluate(post, history: history, now: now, conditionsFirst: true)
        return decide(post, evaluation: evaluation, now: now)
    }

    /// Runs every rule on `post`, every pattern included, for tools that show what matched
    /// where (`warden explain`, `warden test`): a rule whose conditions fail still lists its spans.
    public func evaluate(_ post: Post, history: some AuthorHistory = NoHistory(), now: Date = Date()) -> Evaluation {
        evaluate(post, history: history, now: now, conditionsFirst: false)
    }

    /// `conditionsFirst`: rules whose cheap conditions fail (`MatchPlan.conditionsFirst`) run no
    /// pattern and are left out of the results; what `judge` decides is the same either way,
    /// except that a skipped pattern cannot give up on PCRE2's match limit.
    func evaluate(_ post: Post, history: some AuthorHistory, now: Date, conditionsFirst: Bool) -> Evaluation {
        for index in touched {
            spans[index].removeAll(keepingCapacity: true)
            limits[index] = nil
        }
        touched.removeAll(keepingCapacity: true)
        for index in excludedRules { excluded[index] = false }
        excludedRules.removeAll(keepingCapacity: true)
        let rules = ruleSet.rules
        let plan = ruleSet.plan

        normalizer.normalize(post.text, into: &normalized)
        for k in modelScores.indices { modelScores[k] = -1 }
        let digest = FNV1a.hash(normalized.bytes)

        var text = post.text
        let stats = text.withUTF8 { TextStats.measure($0) }
        if conditionsFirst {
            for index in plan.conditionsFirst {
                let conditions = rules[index].conditions
                if !conditions.textConditionsHold(stats)
                    || (plan.scoreFirst[index] && conditions.score.map { !$0.holds(modelScore($0.modelIndex)) } ?? false)
                {
                    excluded[index] = true
                    excludedRules.append(index)
                }
            }
        }
        // Both texts' literal scans in one loop (see `LiteralAutomaton.scanPair`).
        var scanned: (Int, Int)?
        if let a = plan.normalized.literalScan, let b = plan.original.literalScan, !profiling {
            scanned = normalized.bytes.withUnsafeBufferPointer { normalizedBytes in
                text.withUTF8 { originalBytes in
                    LiteralAutomaton.scanPair(a, normalizedBytes, into: &normalizedEnds, b, originalBytes, into: &originalEnds)
                }
            }
        }
        if !plan.normalized.isEmpty {
            normalized.bytes.withUnsafeBufferPointer { buffer in
                run(plan.normalized, on: buffer, view: .normalized, author: post.authorID, scanned: scanned?.0)
            }
        }
        text.withUTF8 { utf8 in
            if !plan.original.isEmpty { run(plan.original, on: utf8, view: .original, author: post.authorID, scanned: scanned?.1) }
            for kind in plan.detectors {
                findings.removeAll(keepingCapacity: true)
                Detectors.find(kind, in: utf8, into: &findings)
                guard !findings.isEmpty else { continue }
                let scalarRanges = findings.map { Self.scalarRange(ofBytes: $0, in: utf8) }
                for index in plan.detectorRules[kind] ?? [] {
                    if excluded[index] || rules[index].conditions.exceptAuthors.contains(post.authorID) { continue }
                    add(scalarRanges, to: index)
                }
            }
        }

        // Only rules that found something, and rules of conditions alone, need a verdict;
        // visiting every rule per post (copying each Rule) was a fifth of the time.
        var candidates = touched
        candidates.append(contentsOf: plan.conditionOnlyRules)
        candidates.sort()
        var results: [Evaluation.RuleResult] = []
        var yielding = false
        var previous = -1
        for index in candidates where index != previous {
            previous = index
            let conditions = rules[index].conditions
            if !conditions.exceptAuthors.isEmpty && conditions.exceptAuthors.contains(post.authorID) { continue }
            let found = !spans[index].isEmpty
            let holds = conditions.isEmpty
                || conditionsHold(conditions, stats: stats, author: post.authorID, digest: digest, history: history, now: now)
            let matched = holds && (found || !rules[index].hasMatchers)
            results.append(Evaluation.RuleResult(ruleIndex: index, spans: spans[index].sorted { $0.lowerBound < $1.lowerBound }, matched: matched, limit: limits[index]))
            if matched && !conditions.unlessGuidelines.isEmpty { yielding = true }
        }
        if yielding { standDown(&results) }
        return Evaluation(results: results, stats: stats, textDigest: digest)
    }

    /// `unless_guideline`: a matched rule stands down when an enforced, sanctioning rule of a
    /// named guideline matched too. Only rules without `unless_guideline` count as that
    /// guideline's verdict, so rules cannot stand each other down in a circle.
    private func standDown(_ results: inout [Evaluation.RuleResult]) {
        let rules = ruleSet.rules
        var sanctioned = Set<String>()
        for result in results where result.matched {
            let rule = rules[result.ruleIndex]
            if rule.conditions.unlessGuidelines.isEmpty && rule.mode == .enforce && rule.action.isSanction {
                sanctioned.insert(ruleSet.guidelines[rule.guidelineIndex].id)
            }
        }
        guard !sanctioned.isEmpty else { return }
        for k in results.indices where results[k].matched {
            if rules[results[k].ruleIndex].conditions.unlessGuidelines.contains(where: sanctioned.contains) {
                results[k].matched = false
            }
        }
    }

    private func add(_ ranges: [Range<Int>], to index: Int) {
        if spans[index].isEmpty && limits[index] == nil { touched.append(index) }
        for range in ranges where spans[index].count < Self.maxSpansPerRule { spans[index].append(range) }
    }

    /// Runs one view's patterns: the literal scan first, then each gated pattern whose
    /// literal occurred (from its first occurrence when matches start there), then the ungated ones.
    private func run(_ plan: MatchPlan.ViewPlan, on subject: UnsafeBufferPointer<UInt8>, view: TextView, author: String, scanned: Int? = nil) {
        if let scan = plan.literalScan {
            let clock = ContinuousClock()
            let began = profiling ? clock.now : nil
            // First occurrence per gated pattern, in flat arrays: a dictionary here cost a hash per literal found.
            if firstHit.count < plan.gated.count { firstHit = Array(repeating: Int.max, count: plan.gated.count) }
            hitPatterns.removeAll(keepingCapacity: true)
            if seenLiteral.count < plan.literalCount { seenLiteral = Array(repeating: 0, count: plan.literalCount) }
            generation &+= 1
            if generation == 0 {  // wrapped: forget every stale mark
                for i in seenLiteral.indices { seenLiteral[i] = 0 }
                generation = 1
            }
            // Each text has its own scan buffer: `scanPair` filled both before either is read.
            func findOccurrences(_ ends: inout [UInt64]) {
                scan.firstOccurrences(
                    in: subject, ownerStart: plan.ownerStart, owners: plan.owners, firstHit: &firstHit, hits: &hitPatterns,
                    seen: &seenLiteral, generation: generation, ends: &ends, scanned: scanned)
            }
            if view == .normalized { findOccurrences(&normalizedEnds) } else { findOccurrences(&originalEnds) }
            if let began { combinedTime += clock.now - began }
            // Caseless PCRE2 matching also takes the Kelvin sign for k and the long s for s,
            // which the scan (ASCII folding) does not: such a post runs every pattern of the
            // original text, from the start. (The normalised text has them as k and s.)
            if view == .original && Self.hasNonASCIICaseVariants(subject) {
                for gated in hitPatterns { firstHit[gated] = Int.max }
                for entry in plan.gated { runPattern(entry, on: subject, from: 0, view: view, author: author) }
                for entry in plan.ungated { runPattern(entry, on: subject, from: 0, view: view, author: author) }
                return
            }
            hitPatterns.sort()
            var hasDigit: Bool?
            for gated in hitPatterns {
                let start = firstHit[gated]
                firstHit[gated] = Int.max
                guard hasFurtherLiterals(gated, plan: plan, subject: subject, hasDigit: &hasDigit),
                      hasSomeBranch(gated, plan: plan, subject: subject, hasDigit: &hasDigit) else { continue }
                runPattern(plan.gated[gated], on: subject, from: plan.gatedAtStart[gated] ? start : 0, view: view, author: author)
            }
        }
        for entry in plan.ungated { runPattern(entry, on: subject, from: 0, view: view, author: author) }
    }

    /// Whether the text has a character that caseless PCRE2 matching equates with an ASCII
    /// letter: U+212A KELVIN SIGN (k) or U+017F LATIN SMALL LETTER LONG S (s).
    static func hasNonASCIICaseVariants(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress, text.count >= 2 else { return false }
        // memchr for the lead bytes (C5 BF is ſ, E2 84 AA is K): most posts have neither.
        func occurs(_ lead: UInt8, _ rest: [UInt8]) -> Bool {
            var from = 0
            while from < text.count, let hit = memchr(base + from, Int32(lead), text.count - from) {
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if at + rest.count < text.count, rest.indices.allSatisfy({ text[at + 1 + $0] == rest[$0] }) { return true }
                from = at + 1
            }
            return false
        }
        return occurs(0xC5, [0xBF]) || occurs(0xE2, [0x84, 0xAA])
    }

    /// Whether every further literal set of gated pattern `gated` had a literal in this scan.
    @inline(__always)
    private func hasFurtherLiterals(_ gated: Int, plan: MatchPlan.ViewPlan, subject: UnsafeBufferPointer<UInt8>, hasDigit: inout Bool?) -> Bool {
        let first = Int(plan.patternAlsoStart[gated]), last = Int(plan.patternAlsoStart[gated + 1])
        guard first != last else { return true }
        for set in first..<last where !hasLiteral(of: set, plan: plan, subject: subject, hasDigit: &hasDigit) { return false }
        return true
    }

    /// Whether some top-level branch of gated pattern `gated` had a literal of each of its sets
    /// in this scan (true when the pattern has no branch gate).
    @inline(__always)
    private func hasSomeBranch(_ gated: Int, plan: MatchPlan.ViewPlan, subject: UnsafeBufferPointer<UInt8>, hasDigit: inout Bool?) -> Bool {
        let first = Int(plan.patternBranchStart[gated]), last = Int(plan.patternBranchStart[gated + 1])
        guard first != last else { return true }
        branches: for branch in first..<last {
            for set in Int(plan.branchSetStart[branch])..<Int(plan.branchSetStart[branch + 1])
            where !hasLiteral(of: set, plan: plan, subject: subject, hasDigit: &hasDigit) {
                continue branches
            }
            return true
        }
        return false
    }

    /// Whether set `set` (an index into `alsoStart`) had a literal in this scan.
    @inline(__always)
    private func hasLiteral(of set: Int, plan: MatchPlan.ViewPlan, subject: UnsafeBufferPointer<UInt8>, hasDigit: inout Bool?) -> Bool {
        for k in Int(plan.alsoStart[set])..<Int(plan.alsoStart[set + 1]) {
            let literal = plan.alsoLiterals[k]
            if literal == MatchPlan.digitLiteral {
                let digit = hasDigit ?? Self.mayHaveDigit(subject)
                hasDigit = digit
                if digit { return true }
            } else if seenLiteral[Int(literal)] == generation {
                return true
            }
        }
        return false
    }

    /// Whether `\d` could match somewhere: an ASCII digit, or any non-ASCII character (under
    /// UCP `\d` is every Unicode decimal digit; rather than decode, assume one).
    static func mayHaveDigit(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in text where byte &- 0x30 < 10 || byte >= 0x80 { return true }
        return false
    }

    /// Time spent in each rule's patterns, when `profiling` is on (`warden scan --profile`).
    public private(set) var ruleTime: [Duration] = []
    /// How many times each rule's patterns ran, when profiling.
    public private(set) var ruleRuns: [Int] = []
    /// Time spent in the literal scans that decide which patterns run.
    public private(set) var combinedTime: Duration = .zero
    public var profiling = false {
        didSet {
            ruleTime = Array(repeating: .zero, count: ruleSet.rules.count)
            ruleRuns = Array(repeating: 0, count: ruleSet.rules.count)
        }
    }

    private func runPattern(_ entry: MatchPlan.Entry, on subject: UnsafeBufferPointer<UInt8>, from start: Int, view: TextView, author: String) {
        // Before the profile's count, so that `scan --profile` counts only patterns that ran.
        if excluded[entry.rule] { return }
        if profiling {
            let clock = ContinuousClock()
            let began = clock.now
            defer {
                ruleTime[entry.rule] += clock.now - began
                ruleRuns[entry.rule] += 1
            }
            runPatternTimed(entry, on: subject, from: start, view: view, author: author)
        } else {
            runPatternTimed(entry, on: subject, from: start, view: view, author: author)
        }
    }

    private func runPatternTimed(_ entry: MatchPlan.Entry, on subject: UnsafeBufferPointer<UInt8>, from start: Int, view: TextView, author: String) {
        if !entry.exempt.isEmpty && entry.exempt.contains(author) { return }
        let allow = entry.allow
        var found: [Range<Int>] = []
        let limit = scratch.forEachMatch(entry.pattern.pattern, in: subject, from: start) { range in
            if !allow.isEmpty && Self.isAllowListed(range, in: subject, allow: allow) { return true }
            switch view {
            case .normalized: found.append(normalized.originalRange(ofBytes: range))
            case .original: found.append(Self.scalarRange(ofBytes: range, in: subject))
            }
            return found.count < Self.maxSpansPerRule
        }
        if !found.isEmpty { add(found, to: entry.rule) }
        if let limit {
            if spans[entry.rule].isEmpty && limits[entry.rule] == nil { touched.append(entry.rule) }
            limits[entry.rule] = "rule \(ruleSet.rules[entry.rule].id) gave up: \(limit)"
        }
    }

    /// Whether the whole word (or words) around a match is on the allow-list. Each match is
    /// checked on its own, so "cocktail" next to a real swear word never clears the swear word.
    static func isAllowListed(_ range: Range<Int>, in subject: UnsafeBufferPointer<UInt8>, allow: Set<String>) -> Bool {
        func isWordByte(_ byte: UInt8) -> Bool {
            byte >= 0x80 || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
                || byte == 0x5F || byte == 0x2A
        }
        var lower = range.lowerBound
        while lower > 0 && isWordByte(subject[lower - 1]) { lower -= 1 }
        var upper = range.upperBound
        while upper < subject.count && isWordByte(subject[upper]) { upper += 1 }
        let word = String(decoding: UnsafeBufferPointer(rebasing: subject[lower..<upper]), as: UTF8.self)
        if allow.contains(word) { return true }
        let matched = String(decoding: UnsafeBufferPointer(rebasing: subject[range]), as: UTF8.self)
        return allow.contains(matched)
    }

    private func conditionsHold(
        _ conditions: Conditions, stats: TextStats, author: String, digest: UInt64, history: some AuthorHistory, now: Date
    ) -> Bool {
        if !conditions.textConditionsHold(stats) { return false }
        if let score = conditions.score, !score.holds(modelScore(score.modelIndex)) { return false }
        if let within = conditions.repeatPostWithin,
            history.sameTextCount(author: author, textDigest: digest, within: within, now: now) < 1
        {
            return false
        }
        if let flood = conditions.flood, history.postCount(author: author, within: flood.within, now: now) + 1 < flood.count {
            return false
        }
        return true
    }

    /// The post's score by model `index`, computed on the normalised text at the first ask,
    /// with the scores of every model that reads the same features (`ModelGroup`).
    private func modelScore(_ index: Int) -> Double {
        if modelScores[index] < 0 {
            let group = ruleSet.groupOfModel[index]
            normalized.bytes.withUnsafeBufferPointer { ruleSet.modelGroups[group].score(normalized: $0, into: &modelScores, repeatTable: &repeatTable) }
        }
        return modelScores[index]
    }

    // MARK: Decision

    /// Turns an evaluation into the decision: strongest action wins, every broken guideline is named.
    public func decide(_ post: Post, evaluation: Evaluation, now: Date = Date()) -> Decision {
        let rules = ruleSet.rules
        let matched = evaluation.results.filter(\.matched)
        let enforced = matched.filter { rules[$0.ruleIndex].mode == .enforce }
            .sorted { rules[$0.ruleIndex].action > rules[$1.ruleIndex].action }
        let limitReasons = evaluation.results.compactMap(\.limit)
        var action = enforced.first.map { rules[$0.ruleIndex].action } ?? .allow
        if !limitReasons.isEmpty && action < .hold { action = .hold }

        let sanctions = enforced.filter { rules[$0.ruleIndex].action.isSanction }
        let named = sanctions.isEmpty ? enforced : sanctions
        var guidelineIndices: [Int] = []
        for result in named where !guidelineIndices.contains(rules[result.ruleIndex].guidelineIndex) {
            guidelineIndices.append(rules[result.ruleIndex].guidelineIndex)
        }
        let guidelines = guidelineIndices.map { ruleSet.guidelines[$0] }

        var decision = Decision(
            postID: post.id, action: action, guidelines: guidelines.map(\.id), rules: enforced.map { rules[$0.ruleIndex].id },
            matches: [], message: nil, publicNote: nil, redactedText: nil,
            routeTo: enforced.lazy.compactMap { rules[$0.ruleIndex].action == .route ? rules[$0.ruleIndex].routeTo : nil }.first,
            shadowRules: matched.filter { rules[$0.ruleIndex].mode == .shadow }.map { rules[$0.ruleIndex].id },
            limitReasons: limitReasons,
            strikeGuidelines: strikeGuidelines(sanctions),
            textDigest: evaluation.textDigest, authorID: post.authorID, authorName: post.authorName,
            authorStrikes: nil, escalation: nil, decidedAt: now, ruleset: ruleSet.digest)
        guard action != .allow else { return decision }

        let text = ScalarIndexedText(post.text)
        for result in matched {
            let rule = rules[result.ruleIndex]
            if !rule.detectors.isEmpty || ruleSet.guidelines[rule.guidelineIndex].id == PersonalData.guideline {
                decision.personalData += result.spans
            }
        }
        for result in enforced {
            for span in result.spans {
                let lower = min(span.lowerBound, text.scalarCount), upper = min(span.upperBound, text.scalarCount)
                decision.matches.append(MatchSpan(rule: rules[result.ruleIndex].id, start: lower, end: upper, text: text.slice(lower..<upper)))
            }
        }
        guard let winner = enforced.first.map({ rules[$0.ruleIndex] }) else {
            // Held only because PCRE2 gave up: say so plainly.
            decision.message = nil
            return decision
        }
        let guideline = ruleSet.guidelines[winner.guidelineIndex]
        let messageTemplate = winner.message ?? guideline.message ?? (action.isSanction ? DefaultTemplates.message : nil)
        let noteTemplate = winner.publicNote ?? guideline.publicNote ?? (action >= .hide ? DefaultTemplates.publicNote : nil)
        // A routed post with nothing to say to anyone (most complaints) needs no redaction
        // and no template context.
        guard action.isSanction || messageTemplate != nil || noteTemplate != nil else { return decision }
        // Not sanctioned (a flag or route with a message): redacted only if the message shows it.
        let showsRedaction = action.isSanction || messageTemplate?.usesRedactedText == true || noteTemplate?.usesRedactedText == true
        let redacted = showsRedaction ? text.redacting(sanctions.flatMap(\.spans)) : ""
        if action.isSanction { decision.redactedText = redacted }
        let context = templateContext(post: post, rule: winner, guideline: guideline, guidelines: guidelines, action: action, redacted: redacted)
        decision.message = messageTemplate?.render(context)
        decision.publicNote = noteTemplate?.render(context)
        return decision
    }

    /// Guidelines that earn a strike: those of sanctioning rules that count strikes (the
    /// rule's own `strikes`, else its guideline's), once each, in order.
    private func strikeGuidelines(_ sanctions: [Evaluation.RuleResult]) -> [String] {
        var ids: [String] = []
        for result in sanctions {
            let rule = ruleSet.rules[result.ruleIndex]
            let guideline = ruleSet.guidelines[rule.guidelineIndex]
            if rule.strikes ?? guideline.strikes, !ids.contains(guideline.id) { ids.append(guideline.id) }
        }
        return ids
    }

    private func templateContext(
        post: Post, rule: Rule, guideline: Guideline, guidelines: [Guideline], action: Action, redacted: String
    ) -> [String: Any] {
        func describe(_ g: Guideline) -> [String: Any] { ["id": g.id, "title": g.title, "url": g.url, "text": g.text] }
        var list: [[String: Any]] = guidelines.map(describe)
        if !list.isEmpty { list[list.count - 1]["last"] = true }
        return [
            "author": ["name": post.authorName ?? "there", "id": post.authorID],
            "guideline": describe(guideline),
            "guidelines": list,
            "redacted_text": redacted,
            "org": ["name": organisation.name, "contact": organisation.contact],
            "action": action.rawValue,
            "action_past": action.pastTense,
            "post": ["id": post.id, "platform": post.platform ?? ""],
            "rule": ["id": rule.id],
            "route_to": rule.routeTo ?? "",
        ]
    }

    /// The text with every scalar inside `spans` replaced by `*`, except spaces, so the
    /// poster can see where words were masked and how many.
    public static func redact(_ scalars: [Unicode.Scalar], spans: [Range<Int>]) -> String {
        ScalarIndexedText(String(String.UnicodeScalarView(scalars))).redacting(spans)
    }

    // MARK: Offsets

    /// Unicode-scalar offsets of a UTF-8 byte range.
    static func scalarRange(ofBytes range: Range<Int>, in utf8: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var scalars = 0
        var lower = 0
        for index in 0..<min(range.upperBound, utf8.count) {
            if index == range.lowerBound { lower = scalars }
            if utf8[index] & 0xC0 != 0x80 { scalars += 1 }
        }
        if range.lowerBound >= min(range.upperBound, utf8.count) { lower = scalars }
        return lower..<scalars
    }

}

/// A post's text addressed by Unicode-scalar offsets (the unit of spans and of the action
/// file) without an array of scalars: its UTF-8 bytes, and for non-ASCII text where each
/// scalar starts. Decoding every acted-on post into `[Unicode.Scalar]` to cut match texts and
/// redact them cost more than the cutting (docs/PERFORMANCE.md, issue 15); most posts are
/// ASCII, where a scalar offset is a byte offset.
struct ScalarIndexedText {
    let bytes: [UInt8]
    /// Byte offset of each scalar, then the byte count; empty for ASCII text.
    private let starts: [Int]
    let scalarCount: Int

    init(_ text: String) {
        bytes = Array(text.utf8)
        var starts: [Int] = []
        if bytes.contains(where: { $0 >= 0x80 }) {
            starts.reserveCapacity(bytes.count + 1)
            for (offset, byte) in bytes.enumerated() where byte & 0xC0 != 0x80 { starts.append(offset) }
            scalarCount = starts.count
            starts.append(bytes.count)
        } else {
            scalarCount = bytes.count
        }
        self.starts = starts
    }

    /// The byte offset where scalar `index` starts (`scalarCount`: the end).
    @inline(__always)
    func byteOffset(_ index: Int) -> Int { starts.isEmpty ? index : starts[index] }

    /// The scalars `range` (within `0...scalarCount`) as a string.
    func slice(_ range: Range<Int>) -> String {
        String(decoding: bytes[byteOffset(range.lowerBound)..<byteOffset(range.upperBound)], as: UTF8.self)
    }

    /// The text with every scalar inside `spans` replaced by `*`, except white space.
    func redacting(_ spans: [Range<Int>]) -> String {
        var masked = [Bool](repeating: false, count: scalarCount)
        for span in spans {
            let lower = max(0, min(span.lowerBound, scalarCount)), upper = max(lower, min(span.upperBound, scalarCount))
            for index in lower..<upper { masked[index] = true }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for index in 0..<scalarCount {
            let lower = byteOffset(index), upper = byteOffset(index + 1)
            if masked[index] && !Self.isWhitespace(bytes[lower..<upper]) {
                out.append(0x2A)
            } else {
                out.append(contentsOf: bytes[lower..<upper])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Unicode's White_Space for one scalar's bytes (ASCII answered without decoding).
    private static func isWhitespace(_ scalar: ArraySlice<UInt8>) -> Bool {
        let first = scalar[scalar.startIndex]
        if first < 0x80 { return first == 0x20 || (first >= 0x09 && first <= 0x0D) }
        return String(decoding: scalar, as: UTF8.self).unicodeScalars.first?.properties.isWhitespace ?? false
    }
}

/// Messages used when neither the rule nor its guideline has one.
enum DefaultTemplates {
    static let message: MessageTemplate? = MessageTemplate.compile(
        """
        Hi {{author.name}}, your post has been {{action_past}} because it broke our community guidelines: \
        {{#guidelines}}"{{title}}" ({{url}}){{^last}}, {{/last}}{{/guidelines}}. \
        You're welcome to post again without the parts we masked: {{redacted_text}}
        """
    ).template

    static let publicNote: MessageTemplate? = MessageTemplate.compile(
        "A comment was {{action_past}} for breaking our community guidelines ({{#guidelines}}{{title}}{{^last}}; {{/last}}{{/guidelines}})."
    ).template
}
