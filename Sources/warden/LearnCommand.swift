import ArgumentParser
import Foundation
import WardenCore

/// `warden learn`: train a model for one label from labelled JSON Lines, and measure it.
struct LearnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Train a text classifier for one label from labelled posts (JSON Lines with a \"labels\" list).",
        discussion: """
            A post is positive when its labels include --label (compared loosely, like warden eval: personal_attack \
            matches personal-attacks). Training is deterministic: the same files, settings and --seed give the same \
            model file, byte for byte. Rules use the model with `when: { score: { model: NAME, at_least: 0.9 } }`; \
            it is read from RULES/models/NAME.model.

            With --eval, the model is measured on posts it was not trained on: the --held-out files, or, without \
            them, a seeded fifth of the given posts (then trained on the other four fifths). The report gives \
            precision, recall and F1 per threshold and a calibration table.
            """)

    @Argument(help: "Labelled JSON Lines files to train on.") var files: [String]
    @Option(name: .long, help: "The label to predict (personal_attack, spam, complaint, praise, …).") var label: String
    @Option(name: .shortAndLong, help: "Where to write the model (e.g. rules/models/spam.model).") var out: String?
    @Flag(name: .long, help: "Report out-of-sample precision, recall and F1 per threshold, and calibration.") var eval = false
    @Option(name: .customLong("held-out"), help: "A labelled file to measure on with --eval (repeatable).") var heldOut: [String] = []
    @Option(name: .long, help: "Passes over the training posts.") var epochs: Int = 8
    @Option(name: .long, help: "AdaGrad learning rate.") var rate: Float = 0.3
    @Option(name: .long, help: "L2 penalty.") var l2: Float = 1e-6
    @Option(name: .customLong("positive-weight"), help: "Weight of a positive post's loss.") var positiveWeight: Float = 1
    @Option(name: .long, help: "Size of the weight table, as a power of two.") var bits: Int = 18
    @Option(name: .customLong("char-grams"), help: "Length of character n-grams (0 for none).") var charGrams: Int = 4
    @Flag(name: .customLong("no-bigrams"), help: "Leave out pairs of neighbouring words.") var noBigrams = false
    @Option(name: .long, help: "Weights smaller than this are left out of the file.") var prune: Float = 0.01
    @Option(name: .long, help: "Seed for the order of the training posts.") var seed: UInt64 = 13

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one labelled JSON Lines file to train on") }
        guard out != nil || eval else { throw ValidationError("give --out FILE to write the model, or --eval to measure it") }
        guard (10...24).contains(bits) else { throw ValidationError("--bits must be between 10 and 24") }
        guard (0...7).contains(charGrams) else { throw ValidationError("--char-grams must be between 0 and 7") }
        guard epochs >= 1, rate > 0, l2 >= 0, positiveWeight > 0, prune >= 0 else {
            throw ValidationError("--epochs must be at least 1; --rate and --positive-weight above 0; --l2 and --prune at least 0")
        }
    }

    func run() throws {
        var settings = Trainer.Settings()
        settings.features = FeatureConfig(bucketBits: bits, charGram: charGrams, wordBigrams: !noBigrams)
        settings.epochs = epochs
        settings.learningRate = rate
        settings.l2 = l2
        settings.positiveWeight = positiveWeight
        settings.seed = seed
        let trainer = Trainer(settings: settings)
        var normalizer = Normalizer()
        let wanted = EvalReport.canonical(label)

        func read(_ path: String) throws -> [(id: String, text: String, positive: Bool)] {
            var rows: [(id: String, text: String, positive: Bool)] = []
            var source = try LineSource(path: path)
            var invalid = 0
            while source.next({ lineNumber, line in
                guard !PostParser.isBlank(line) else { return }
                do throws(PostError) {
                    let labelled = try PostParser.parseLabelled(line)
                    rows.append((labelled.post.id, labelled.post.text, labelled.labels.contains { EvalReport.canonical($0) == wanted }))
                } catch {
                    invalid += 1
                    Output.error("warden learn: \(path):\(lineNumber): \(error.reason)")
                }
            }) {}
            if invalid > 0 { throw ExitStatus.inputError }
            return rows
        }

        var training: [(id: String, text: String, positive: Bool)] = []
        for file in files { training += try read(file) }
        var measuring: [(id: String, text: String, positive: Bool)] = []
        if eval {
            if heldOut.isEmpty {
                // A seeded fifth of the posts, chosen by a hash of the id so that it does not depend on file order.
                var kept: [(id: String, text: String, positive: Bool)] = []
                for row in training {
                    if Self.heldOutByHash(row.id, seed: seed) { measuring.append(row) } else { kept.append(row) }
                }
                training = kept
            } else {
                for file in heldOut { measuring += try read(file) }
            }
        }
        let positives = training.filter(\.positive).count
        guard positives > 0, positives < training.count else {
            Output.error("warden learn: the training posts need both positive and negative examples of \"\(label)\" (\(positives) of \(training.count) are positive)")
            throw ExitStatus.inputError
        }
        let examples = training.map { trainer.example($0.text, positive: $0.positive, normalizer: &normalizer) }
        let model = trainer.train(examples, label: wanted)
        // The pruned model is what is shipped, so it is also what --eval measures.
        let shipped = try ModelFile.decode(ModelFile.encode(model, pruneBelow: prune), path: out ?? "(model)")
        let outText = Output.standard
        outText.line("trained \"\(wanted)\" on \(training.count) posts (\(positives) positive), \(epochs) epochs, \(1 << bits) buckets")
        if let out {
            try ModelFile.write(model, to: out, pruneBelow: prune)
            let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            outText.line("wrote \(out) (\(size) bytes)")
        }
        if eval {
            let scored = measuring.map { (score: shipped.score($0.text), positive: $0.positive) }
            let report = ScoreReport(scored)
            let source = heldOut.isEmpty ? "a held-out fifth of the given posts" : heldOut.joined(separator: ", ")
            outText.line("\nmeasured on \(report.posts) posts not trained on (\(report.positives) positive): \(source)")
            outText.line("threshold    tp     fp     fn     precision  recall  f1")
            for row in report.rows {
                outText.line(
                    String(format: "%-10.2f %-6d %-6d %-6d %-10.3f %-7.3f %.3f", row.threshold, row.truePositives, row.falsePositives,
                        row.falseNegatives, row.precision, row.recall, row.f1))
            }
            outText.line("\ncalibration (score band, posts, mean score, share positive):")
            for bin in report.bins {
                outText.line(String(format: "%.1f-%.1f    %-6d %-10.3f %.3f", bin.lower, bin.upper, bin.posts, bin.meanScore, bin.observed))
            }
        }
        outText.flush()
    }

    static func heldOutByHash(_ id: String, seed: UInt64) -> Bool {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash % 5 == 0
    }
}
