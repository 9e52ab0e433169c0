import ArgumentParser
import Foundation
import WardenCore

/// `warden eval FILE`: precision, recall and F1 per guideline over labelled posts.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Judge labelled posts (JSON Lines with a \"labels\" list) and report precision, recall and F1 per guideline.",
        discussion: """
            A guideline counts as predicted when one of its rules sanctions the post (hold, hide or delete), \
            or acts at all for guidelines that never sanction (complaints). A rule's own name (complaints.praise → praise) \
            counts when that rule acts. Labels and guideline ids compare loosely: personal_attack matches personal-attacks.
            """)

    @Argument(help: "Labelled JSON Lines file.") var file: String?
    @Option(name: .long, help: "Evaluate on the review console's reviews under this state root instead of a file.") var reviews: String?
    @OptionGroup var options: RulesOptions
    @Flag(name: .long, help: "List every false positive and false negative.") var mistakes = false

    func run() throws {
        let ruleSet = try loadRules(options.directory(), runExamples: false, format: options.format)
        let judge = Judge(ruleSet: ruleSet, organisation: options.organisation)
        guard let file = try file ?? reviews.map({ try ReviewExport.write(stateRoot: $0, ledger: options.settings.configuration.ledger) }) else { throw ValidationError("give a labelled file or --reviews STATE") }
        var source = try LineSource(path: file)
        var report = EvalReport()
        var invalid = 0
        var errors: [String] = []
        while source.next({ lineNumber, line in
            guard !PostParser.isBlank(line) else { return }
            do throws(PostError) {
                let labelled = try PostParser.parseLabelled(line)
                let evaluation = judge.evaluate(labelled.post)
                let predicted = EvalReport.predictedLabels(evaluation, ruleSet: ruleSet)
                report.add(labels: labelled.labels, predicted: predicted)
                if mistakes {
                    let truth = Set(labelled.labels.map(EvalReport.canonical))
                    let relevant = predicted.filter { report.labels.contains($0) || truth.contains($0) }
                    if relevant != truth {
                        errors.append("\(labelled.post.id)\ttrue=\(truth.sorted())\tpredicted=\(relevant.sorted())\t\(labelled.post.text.prefix(160))")
                    }
                }
            } catch {
                invalid += 1
                Output.error("warden eval: \(file):\(lineNumber): \(error.reason); skipped")
            }
        }) {}
        report.finish()
        if options.format == .json {
            var w = JSONWriter()
            w.beginObject()
            w.key("file"); w.string(file)
            w.key("posts"); w.int(report.posts)
            w.key("ruleset"); w.string(ruleSet.digest)
            w.key("guidelines")
            w.beginArray()
            for score in report.scores {
                w.beginObject()
                w.key("label"); w.string(score.label)
                w.key("support"); w.int(score.support)
                w.key("tp"); w.int(score.truePositives)
                w.key("fp"); w.int(score.falsePositives)
                w.key("fn"); w.int(score.falseNegatives)
                w.key("precision"); w.double(score.precision)
                w.key("recall"); w.double(score.recall)
                w.key("f1"); w.double(score.f1)
                w.endObject()
            }
            w.endArray()
            w.key("clean_posts"); w.int(report.cleanPosts)
            w.key("clean_acted_on"); w.int(report.cleanActedOn)
            w.key("invalid_lines"); w.int(invalid)
            w.endObject()
            Output.standard.write(w.bytes + [0x0A])
        } else {
            let out = Output.standard
            out.line("\(file): \(report.posts) posts, ruleset \(ruleSet.digest.prefix(19))…")
            out.line(pad("guideline", 18) + pad("support", 9) + pad("tp", 7) + pad("fp", 7) + pad("fn", 7) + pad("precision", 11) + pad("recall", 9) + "f1")
            for s in report.scores {
                out.line(
                    pad(s.label, 18) + pad("\(s.support)", 9) + pad("\(s.truePositives)", 7) + pad("\(s.falsePositives)", 7)
                        + pad("\(s.falseNegatives)", 7) + pad(fmt(s.precision), 11) + pad(fmt(s.recall), 9) + fmt(s.f1))
            }
            out.line("clean posts acted on: \(report.cleanActedOn) of \(report.cleanPosts)")
            out.line("\nconfusion (rows: true label, columns: predicted):")
            let columns = report.labels + ["clean"]
            out.line(pad("", 18) + columns.map { pad($0, 17) }.joined())
            for row in report.labels + ["clean"] {
                out.line(pad(row, 18) + columns.map { pad("\(report.confusion[row]?[$0] ?? 0)", 17) }.joined())
            }
            if mistakes {
                out.line("\nmistakes:")
                for line in errors { out.line(line) }
            }
            out.flush()
        }
        Output.standard.flush()
        if invalid > 0 { throw ExitStatus.inputError }
    }

    private func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
    private func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
}
