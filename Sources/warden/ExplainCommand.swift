import ArgumentParser
import Foundation
import WardenCore

/// `warden explain TEXT`: which rules matched where, and the decision that follows.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Judge one text and show which rules matched where.")

    @Argument(help: "The text to judge ('-' reads it from stdin).") var text: String
    @OptionGroup var options: RulesOptions
    @Option(name: .long, help: "Author name used in the message.") var author: String = "Sam"

    func run() throws {
        let ruleSet = try loadRules(options.directory(), runExamples: false, format: options.format)
        var input = text
        if text == "-" {
            input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            if input.hasSuffix("\n") { input.removeLast() }
        }
        let judge = Judge(ruleSet: ruleSet, organisation: options.organisation)
        let post = Post(id: "explain", authorID: "explain", authorName: author, text: input)
        let evaluation = judge.evaluate(post)
        let decision = judge.decide(post, evaluation: evaluation)
        if options.format == .json {
            Output.standard.write(decision.actionFileJSON())
            Output.standard.flush()
            return
        }
        let scalars = Array(input.unicodeScalars)
        let out = Output.standard
        out.line(Style.bold("decision: \(decision.action.rawValue)") + (decision.guidelines.isEmpty ? "" : "  (\(decision.guidelines.joined(separator: ", ")))"))
        // Condition-only rules whose conditions failed are noise here: show what found something.
        let shown = evaluation.results.filter { $0.matched || !$0.spans.isEmpty || $0.limit != nil }
        if shown.isEmpty { out.line("no rule matched") }
        for result in shown {
            let rule = ruleSet.rules[result.ruleIndex]
            var status = result.matched ? Style.red("matched") : "conditions not met"
            if rule.mode == .shadow { status += " (shadow: not enforced)" }
            if let limit = result.limit { status = Style.yellow("limit: \(limit)") }
            out.line("  \(Style.bold(rule.id)) → \(rule.action.rawValue): \(status)  [\(rule.location)]")
            for span in result.spans {
                let lower = min(span.lowerBound, scalars.count), upper = min(span.upperBound, scalars.count)
                let before = String(String.UnicodeScalarView(scalars[max(0, lower - 30)..<lower]))
                let hit = String(String.UnicodeScalarView(scalars[lower..<upper]))
                let after = String(String.UnicodeScalarView(scalars[upper..<min(scalars.count, upper + 30)]))
                out.line("      \(lower)..<\(upper): …\(before)\(Style.highlight(hit))\(after)…")
            }
        }
        for model in ruleSet.models {
            let (score, contributions) = model.explain(input)
            func list(_ items: ArraySlice<TextModel.Contribution>) -> String {
                items.map { "\($0.text) \(String(format: "%+.2f", $0.weight))" }.joined(separator: ", ")
            }
            let towards = contributions.filter { $0.weight > 0 }.prefix(5), against = contributions.filter { $0.weight < 0 }.prefix(3)
            out.line("  score \(Style.bold(model.label)): \(String(format: "%.3f", score))"
                + (towards.isEmpty ? "" : "; weighed most: \(list(towards))") + (against.isEmpty ? "" : "; against: \(list(against))"))
        }
        if let redacted = decision.redactedText { out.line("redacted: \(redacted)") }
        if let message = decision.message { out.line("message:\n  " + message.replacingOccurrences(of: "\n", with: "\n  ")) }
        if let note = decision.publicNote { out.line("public note: \(note)") }
        for reason in decision.limitReasons { out.line(Style.yellow("held: \(reason)")) }
        out.flush()
    }
}
