import Foundation
import Testing
@testable import WardenCore

/// A small labelled set with a clear signal: insults against everyday chat.
private let insults = [
    "you are an idiot", "what a pathetic loser you are", "shut up you moron", "you're such a stupid clown",
    "nobody cares, idiot", "you absolute moron", "go away loser", "you are truly a pathetic idiot",
]
private let chat = [
    "the bus was late again today", "thanks for the quick reply", "when does the shop open on sunday",
    "my parcel has not arrived yet", "lovely weather for the fun day", "can you check my booking please",
    "the app keeps crashing on login", "great service at the counter",
]

private func examples(_ trainer: Trainer) -> [Trainer.Example] {
    var normalizer = Normalizer()
    return insults.map { trainer.example($0, positive: true, normalizer: &normalizer) }
        + chat.map { trainer.example($0, positive: false, normalizer: &normalizer) }
}

private func smallSettings() -> Trainer.Settings {
    var settings = Trainer.Settings()
    settings.features = FeatureConfig(bucketBits: 12, charGram: 4, wordBigrams: true)
    settings.epochs = 20
    return settings
}

@Suite("Learned models: training, the model file, the score condition")
struct LearningTests {
    @Test func trainingIsDeterministicAndSeeded() {
        let trainer = Trainer(settings: smallSettings())
        let a = ModelFile.encode(trainer.train(examples(trainer), label: "personal_attack"))
        let b = ModelFile.encode(trainer.train(examples(trainer), label: "personal_attack"))
        #expect(a == b)
        var other = smallSettings()
        other.seed = 99
        let reseeded = Trainer(settings: other)
        #expect(ModelFile.encode(reseeded.train(examples(reseeded), label: "personal_attack")) != a)
    }

    @Test func theModelSeparatesWhatItWasTrainedOn() {
        let trainer = Trainer(settings: smallSettings())
        let model = trainer.train(examples(trainer), label: "personal_attack")
        #expect(model.score("you are such an idiot") > 0.7)
        #expect(model.score("the bus was late, can you check") < 0.3)
        // Normalised text: capitals and spacing do not hide an insult from the model.
        #expect(abs(model.score("YOU   ARE AN IDIOT") - model.score("you are an idiot")) < 1e-9)
        let (_, contributions) = model.explain("you are an idiot")
        #expect(contributions.first { $0.weight > 0 }?.text == "idiot")
    }

    @Test("a post that repeats itself scores as one copy does, however long")
    func repetitionDoesNotSaturate() {
        let trainer = Trainer(settings: smallSettings())
        let model = trainer.train(examples(trainer), label: "personal_attack")
        let sentence = "the bus was late again and the driver was kind. "
        let once = model.score(sentence)
        let flood = model.score(String(repeating: sentence, count: 2_000))  // ~100 kB
        #expect(once < 0.3)
        // Only the pair of words across each copy's edge is new; version 1 scored this 1.0.
        #expect(abs(flood - once) < 0.05, "one copy \(once), 2,000 copies \(flood)")
        let insult = model.score("you are an idiot")
        #expect(abs(model.score(String(repeating: "you are an idiot ", count: 500)) - insult) < 0.05)
    }

    @Test("the repeat counter's norm is the sum of squared counts, however buckets collide")
    func repeatCounterMatchesADictionary() {
        var random = SplitMix64(seed: 7)
        for round in 0..<200 {
            let count = Int(random.next() % 600)
            let range = UInt64(round % 3 == 0 ? 16 : 4_096)  // few distinct buckets: many repeats
            let buckets = (0..<count).map { _ in UInt32(random.next() % range) }
            var counts: [UInt32: Int] = [:]
            for b in buckets { counts[b, default: 0] += 1 }
            let expected = counts.values.reduce(0) { $0 + $1 * $1 }
            #expect(TextFeatures.squaredNorm(of: buckets, config: FeatureConfig(bucketBits: 12)) == expected)
        }
        // Without repeats the scale is 1/√n, as version 1 had it.
        #expect(TextFeatures.scale(squaredNorm: 25) == 0.2)
        #expect(TextFeatures.scale(squaredNorm: 0) == 0)
    }

    @Test func theModelFileRoundTrips() throws {
        let trainer = Trainer(settings: smallSettings())
        let model = trainer.train(examples(trainer), label: "spam")
        let bytes = ModelFile.encode(model)
        let read = try ModelFile.decode(bytes, path: "spam.model")
        #expect(read.label == "spam" && read.features == model.features && read.bias == model.bias)
        #expect(read.weights == model.weights)
        #expect(ModelFile.encode(read) == bytes)
        // Pruned weights read back as 0, and the file shrinks.
        let pruned = ModelFile.encode(model, pruneBelow: 0.3)
        #expect(pruned.count < bytes.count)
        let prunedModel = try ModelFile.decode(pruned, path: "spam.model")
        #expect(prunedModel.weights.allSatisfy { $0 == 0 || abs($0) >= 0.3 })
    }

    @Test("a corrupt, truncated, foreign or newer model file is refused with its name and what to do")
    func badModelFiles() {
        let trainer = Trainer(settings: smallSettings())
        let bytes = ModelFile.encode(trainer.train(examples(trainer), label: "spam"))
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        var newer = bytes
        newer[8] = 3
        let cases: [([UInt8], String)] = [
            (flipped, "corrupt (checksum mismatch)"),
            (Array(bytes.prefix(30)), "corrupt"),
            (Array("hello, not a model".utf8), "not a Warden model file"),
            (newer, "model file version 3, but this warden reads version 2"),
        ]
        for (input, expected) in cases {
            #expect(throws: ModelFileError.self) { try ModelFile.decode(input, path: "rules/models/spam.model") }
            do {
                _ = try ModelFile.decode(input, path: "rules/models/spam.model")
            } catch {
                #expect(error.description.hasPrefix("rules/models/spam.model: "))
                #expect(error.description.contains(expected), "\(error.description)")
            }
        }
    }

    static let rules = """
        guideline: personal-attacks
        title: Respect people
        text: No name-calling.
        url: https://example.org/g#attacks
        rules:
          - id: personal-attacks.learned
            when: { score: { model: attack, at_least: 0.8 } }
            action: hide
            examples:
              match: ["you are an idiot"]
              no_match: ["the bus was late again today"]
          - id: personal-attacks.learned-review
            when: { score: { model: attack, at_least: 0.5, below: 0.8 } }
            action: hold
        """

    private func rulesWithModel() throws -> TemporaryRules {
        let trainer = Trainer(settings: smallSettings())
        let model = trainer.train(examples(trainer), label: "personal_attack")
        let rules = try TemporaryRules(["personal-attacks.yaml": Self.rules])
        try FileManager.default.createDirectory(atPath: rules.path + "/models", withIntermediateDirectories: true)
        try ModelFile.write(model, to: rules.path + "/models/attack.model")
        return rules
    }

    @Test func theScoreConditionGradesTheResponse() throws {
        let rules = try rulesWithModel()
        defer { rules.remove() }
        let ruleSet = try rules.load()
        #expect(ruleSet.models.count == 1)
        let judge = Judge(ruleSet: ruleSet)
        let model = ruleSet.models[0]
        for text in insults + chat {
            let score = model.score(text)
            let expected: Action = score >= 0.8 ? .hide : score >= 0.5 ? .hold : .allow
            let decision = judge.judge(Post(id: "p", authorID: "a", text: text))
            #expect(decision.action == expected, "\(text): score \(score)")
        }
        #expect(judge.judge(Post(id: "p", authorID: "a", text: "you are an idiot")).action == .hide)
        #expect(judge.judge(Post(id: "p", authorID: "a", text: "thanks for the quick reply")).action == .allow)
    }

    @Test func theModelIsPartOfTheRulesetDigest() throws {
        let rules = try rulesWithModel()
        defer { rules.remove() }
        let before = try rules.load().digest
        var settings = smallSettings()
        settings.seed = 7
        let trainer = Trainer(settings: settings)
        try ModelFile.write(trainer.train(examples(trainer), label: "personal_attack"), to: rules.path + "/models/attack.model")
        #expect(try rules.load(runExamples: false).digest != before)
    }

    @Test("a missing or corrupt model, or a bad score condition, is a load error at the condition")
    func scoreConditionErrors() throws {
        let rules = try TemporaryRules(["personal-attacks.yaml": Self.rules])
        defer { rules.remove() }
        let missing = rules.diagnostics()
        let error = try #require(missing.first { $0.message.contains("model \"attack\"") })
        #expect(error.file == "personal-attacks.yaml" && error.line == 7)
        #expect(error.message.contains("models/attack.model") && error.message.contains("not found"))

        try FileManager.default.createDirectory(atPath: rules.path + "/models", withIntermediateDirectories: true)
        try Data("WARDENLM\u{1}\u{0}garbage".utf8).write(to: URL(fileURLWithPath: rules.path + "/models/attack.model"))
        let old = rules.diagnostics()
        #expect(old.contains { $0.message.contains("models/attack.model") && $0.message.contains("version 1") })

        let bad = try TemporaryRules(["personal-attacks.yaml": Self.rules.replacingOccurrences(of: "at_least: 0.8 }", with: "at_lest: 0.8 }")
            .replacingOccurrences(of: "at_least: 0.5, below: 0.8", with: "at_least: 1.5")])
        defer { bad.remove() }
        let messages = bad.diagnostics().map(\.message)
        #expect(messages.contains { $0.contains("unknown key \"at_lest\" in score") && $0.contains("did you mean \"at_least\"?") })
        #expect(messages.contains { $0.contains("score.at_least must be a number between 0 and 1") })
    }

    @Test func scoreReportCountsAndCalibrates() {
        let report = ScoreReport([(0.95, true), (0.85, false), (0.3, true), (0.05, false)], thresholds: [0.5, 0.9], binCount: 10)
        #expect(report.rows[0].truePositives == 1 && report.rows[0].falsePositives == 1 && report.rows[0].falseNegatives == 1)
        #expect(report.rows[1].precision == 1 && report.rows[1].recall == 0.5)
        #expect(report.bins[9].posts == 1 && report.bins[9].observed == 1)
        #expect(report.bins[0].posts == 1 && report.bins[0].observed == 0)
        #expect(report.lowestThreshold(reachingPrecision: 0.9)?.threshold == 0.9)
    }
}
