import Foundation
import Testing
@testable import WardenCore

/// Conditions first (`MatchPlan.conditionsFirst`): a rule whose cheap conditions fail runs no
/// pattern in `Judge.judge`, and what the judge decides is what the ungated plan (every pattern,
/// no condition first) decides; `evaluate`, for explain and test, still shows every match.
@Suite("Conditions checked before patterns")
struct ConditionsFirstTests {
    static let rules = """
        guideline: personal-attacks
        title: No personal attacks
        text: Criticise ideas, not people.
        url: https://example.org/guidelines#attacks
        strikes: true
        rules:
          - id: attacks.long-rant
            patterns: ['\\bidiots?\\b']
            when: { length: { at_least: 40 } }
            action: hold
          - id: attacks.shouted
            patterns: ['\\bmorons?\\b']
            when: { caps: { at_least: 0.8, min_letters: 10 } }
            action: hide
          - id: attacks.plain
            patterns: ['\\bclowns?\\b']
            action: delete
        """

    static let texts = [
        "idiot",
        "you idiot",
        "what an idiot, honestly, I cannot believe how long this took",
        "moron",
        "YOU ARE A MORON AND EVERYONE KNOWS IT",
        "you are a moron and everyone knows it",
        "clown",
        "idiot moron clown",
        "YOU IDIOT, YOU ABSOLUTE MORON, WHAT A CLOWN SHOW THIS ALL IS",
        "a perfectly pleasant post about the weather",
    ]

    private func ruleSets() throws -> (gated: RuleSet, ungated: RuleSet, directory: TemporaryRules) {
        let directory = try TemporaryRules(["personal-attacks.yaml": Self.rules])
        let gated = try RuleLoader.load(directory: directory.path, runExamples: false)
        let ungated = try RuleLoader.load(directory: directory.path, runExamples: false, options: MatchingOptions(gatePatterns: false))
        return (gated, ungated, directory)
    }

    @Test(arguments: texts)
    func decisionsAreTheUngatedOnes(text: String) throws {
        let (gated, ungated, directory) = try ruleSets()
        defer { directory.remove() }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let post = Post(id: "p", authorID: "u", authorName: "Sam", text: text)
        #expect(Judge(ruleSet: gated).judge(post, now: now) == Judge(ruleSet: ungated).judge(post, now: now), "\(text)")
    }

    @Test func onlyRulesWithCheapConditionsAreCheckedFirst() throws {
        let (gated, ungated, directory) = try ruleSets()
        defer { directory.remove() }
        #expect(gated.plan.conditionsFirst.map { gated.rules[$0].id } == ["attacks.long-rant", "attacks.shouted"])
        #expect(ungated.plan.conditionsFirst.isEmpty)
    }

    @Test func aRuleWhoseConditionsFailRunsNoPattern() throws {
        let (gated, _, directory) = try ruleSets()
        defer { directory.remove() }
        let judge = Judge(ruleSet: gated)
        judge.profiling = true  // counts each rule's pattern runs
        let rant = try #require(gated.rules.firstIndex { $0.id == "attacks.long-rant" })
        let shouted = try #require(gated.rules.firstIndex { $0.id == "attacks.shouted" })
        let plain = try #require(gated.rules.firstIndex { $0.id == "attacks.plain" })

        // Short, lower case: both conditions fail, so neither pattern runs; the plain rule's does.
        let post = Post(id: "p", authorID: "u", text: "idiot moron clown")
        #expect(judge.judge(post).rules == ["attacks.plain"])
        #expect(judge.ruleRuns[rant] == 0)
        #expect(judge.ruleRuns[shouted] == 0)
        #expect(judge.ruleRuns[plain] == 1)

        // Conditions that hold: the pattern runs and decides.
        let long = Post(id: "q", authorID: "u", text: "what an idiot, honestly, I cannot believe how long this took")
        #expect(judge.judge(long).rules == ["attacks.long-rant"])
        #expect(judge.ruleRuns[rant] == 1)
    }

    @Test func evaluateStillShowsTheSpansOfARuleWhoseConditionsFail() throws {
        let (gated, _, directory) = try ruleSets()
        defer { directory.remove() }
        let judge = Judge(ruleSet: gated)
        let rant = try #require(gated.rules.firstIndex { $0.id == "attacks.long-rant" })
        let evaluation = judge.evaluate(Post(id: "p", authorID: "u", text: "you idiot"))
        let result = try #require(evaluation.result(forRule: rant))
        #expect(!result.matched)
        #expect(result.spans == [4..<9])
        // And a judge that skipped it on one post shows it again on the next evaluate.
        _ = judge.judge(Post(id: "p", authorID: "u", text: "you idiot"))
        #expect(judge.evaluate(Post(id: "p", authorID: "u", text: "you idiot")).result(forRule: rant)?.spans == [4..<9])
    }

    // The shipped rules: complaints.baggage and its siblings have a common-word pattern and a
    // complaint score of at least 0.75; complaints.learned scores every post anyway, so the
    // score is checked first and a post that is no complaint never runs their patterns.
    static let shipped: (gated: RuleSet, ungated: RuleSet) = {
        do {
            let directory = Repository.root + "/rules"
            return (try RuleLoader.load(directory: directory, runExamples: false),
                    try RuleLoader.load(directory: directory, runExamples: false, options: MatchingOptions(gatePatterns: false)))
        } catch {
            fatalError("shipped rules do not load: \(error)")
        }
    }()

    static let customerPosts = [
        "love the new bag drop, so quick",
        "my bag was lost and nobody helps, three days now and no call back",
        "the luggage allowance page is really clear",
        "refund still not here after six weeks, this is a joke",
        "thanks for waiving the fee, very kind",
        "flight delayed 3 hours and the staff were rude to everyone",
        "the crew were lovely, thank you",
        "@airline my suitcase arrived damaged and the handle is broken",
    ]

    @Test(arguments: customerPosts)
    func shippedRulesDecideAsUngated(text: String) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let post = Post(id: "p", authorID: "u", authorName: "Sam", text: text)
        #expect(Judge(ruleSet: Self.shipped.gated).judge(post, now: now) == Judge(ruleSet: Self.shipped.ungated).judge(post, now: now), "\(text)")
    }

    @Test func aLowComplaintScoreSkipsTheComplaintPatterns() throws {
        let ruleSet = Self.shipped.gated
        let baggage = try #require(ruleSet.rules.firstIndex { $0.id == "complaints.baggage" })
        #expect(ruleSet.plan.conditionsFirst.contains(baggage))
        #expect(ruleSet.plan.scoreFirst[baggage])
        let judge = Judge(ruleSet: ruleSet)
        judge.profiling = true
        let praise = Post(id: "p", authorID: "u", text: "love the new bag drop, so quick")
        let complaint = try #require(ruleSet.models.firstIndex { $0.label == "complaint" })
        #expect(ruleSet.models[complaint].score(praise.text) < 0.75)
        _ = judge.judge(praise)
        #expect(judge.ruleRuns[baggage] == 0)
        _ = judge.evaluate(praise)
        #expect(judge.ruleRuns[baggage] == 1)
    }

    @Test(arguments: customerPosts + texts)
    func sharedFeaturesScoreAsEachModelAlone(text: String) {
        let ruleSet = Self.shipped.gated
        var normalizer = Normalizer()
        let normalized = normalizer.normalize(text)
        var scores = Array(repeating: -1.0, count: ruleSet.models.count)
        normalized.bytes.withUnsafeBufferPointer { bytes in
            for group in ruleSet.modelGroups { group.score(normalized: bytes, into: &scores) }
        }
        for (index, model) in ruleSet.models.enumerated() {
            let alone = normalized.bytes.withUnsafeBufferPointer { model.score(normalized: $0) }
            #expect(scores[index].bitPattern == alone.bitPattern, "\(model.label): \(text)")
        }
    }
}
