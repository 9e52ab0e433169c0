import ArgumentParser
import WardenCore

/// `warden test [RULES]`: run every rule's examples, like fail2ban-regex for a whole directory.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Run every rule's match / no_match examples and show each failure.")

    @Argument(help: "Rules directory (default: --rules or ./rules).") var directory: String?
    @OptionGroup var options: RulesOptions
    @Option(name: .long, help: "Only the rules with these ids (repeatable).") var rule: [String] = []

    func run() throws {
        let ruleSet = try loadRules(options.directory(directory), runExamples: false, format: options.format)
        for id in rule where ruleSet.rule(id: id) == nil { throw unknownName("rule", id, known: ruleSet.ruleIDs) }
        let report = ExampleRunner.run(ruleSet, organisation: options.organisation, only: rule.isEmpty ? nil : Set(rule))
        if options.format == .json {
            var w = JSONWriter()
            w.beginObject()
            w.key("examples"); w.int(report.examples)
            w.key("failed"); w.int(report.failures.count)
            w.key("failures")
            w.beginArray()
            for failure in report.failures {
                w.beginObject()
                w.key("rule"); w.string(failure.rule.id)
                w.key("file"); w.string(failure.example.location.file)
                w.key("line"); w.int(failure.example.location.line)
                w.key("column"); w.int(failure.example.location.column)
                w.key("expected"); w.string(failure.example.shouldMatch ? "match" : "no_match")
                w.key("text"); w.string(failure.example.text)
                w.key("matched"); w.stringArray(failure.matched)
                w.endObject()
            }
            w.endArray()
            w.key("rules_without_examples"); w.stringArray(report.rulesWithoutExamples)
            w.endObject()
            Output.standard.write(w.bytes + [0x0A])
        } else {
            for failure in report.failures {
                Output.standard.line("\(Style.red("FAIL")) \(failure.example.location): \(failure.summary)")
            }
            for id in report.rulesWithoutExamples { Output.standard.line(Style.yellow("warning: rule \(id) has no examples")) }
            let passed = report.examples - report.failures.count
            let verdict = report.failures.isEmpty ? Style.green("ok") : Style.red("FAILED")
            Output.standard.line("\(verdict): \(passed) of \(report.examples) examples pass across \(ruleSet.rules.count) rules")
        }
        Output.standard.flush()
        if !report.failures.isEmpty { throw ExitStatus.findings }
    }
}
