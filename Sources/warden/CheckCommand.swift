import ArgumentParser
import WardenCore

/// `warden check [RULES]`: would the daemon accept this rules directory?
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a rules directory; every problem is reported as file:line:column.")

    @Argument(help: "Rules directory (default: --rules or ./rules).") var directory: String?
    @OptionGroup var options: RulesOptions
    @Flag(name: .long, help: "Print each rule's compiled patterns (rule, text view, PCRE2 source), one per line.")
    var printPatterns = false

    func run() throws {
        let (ruleSet, overlay) = try loadRulesWithOrigins(options.directory(directory), runExamples: !printPatterns, format: options.format)
        if printPatterns {
            for rule in ruleSet.rules {
                for pattern in rule.allPatterns {
                    let view = pattern.view == .normalized ? "normalized" : "original"
                    if options.format == .json {
                        var w = JSONWriter()
                        w.beginObject()
                        w.key("rule"); w.string(rule.id)
                        w.key("view"); w.string(view)
                        w.key("caseless"); w.bool(pattern.pattern.isCaseless)
                        w.key("pattern"); w.string(pattern.pattern.source)
                        w.key("gate")
                        if let gate = ruleSet.gateLiterals(of: pattern) {
                            w.beginArray(); for literal in gate { w.string(literal) }; w.endArray()
                        } else {
                            w.null()
                        }
                        let branches = ruleSet.branchGateLiterals(of: pattern)
                        if !branches.isEmpty {
                            w.key("branch_gates")
                            w.beginArray()
                            for branch in branches {
                                w.beginArray(); for literal in branch { w.string(literal) }; w.endArray()
                            }
                            w.endArray()
                        }
                        w.endObject()
                        Output.standard.write(w.bytes + [0x0A])
                    } else {
                        let oneLine = pattern.pattern.source.replacingOccurrences(of: "\n", with: "\\n")
                        Output.standard.line(
                            "\(rule.id)\t\(view)\t\(pattern.pattern.isCaseless ? "i" : "-")\t\(oneLine)\tgate: \(ruleSet.gateDescription(of: pattern))")
                    }
                }
            }
            Output.standard.flush()
            Output.error(ruleSet.planSummary)
            return
        }
        let examples = ruleSet.rules.reduce(0) { $0 + $1.examples.count }
        if options.format == .json {
            var w = JSONWriter()
            w.beginObject()
            w.key("ok"); w.bool(true)
            w.key("guidelines"); w.int(ruleSet.guidelines.count)
            w.key("rules"); w.int(ruleSet.rules.count)
            w.key("examples"); w.int(examples)
            w.key("ruleset"); w.string(ruleSet.digest)
            w.key("diagnostics"); writeDiagnostics(ruleSet.warnings, to: &w)
            if let overlay {
                w.key("origins")
                w.beginArray()
                for origin in overlay.origins + overlay.removed {
                    w.beginObject()
                    w.key("rule"); w.string(origin.rule)
                    w.key("origin"); w.string(origin.mode == "off" ? "off" : origin.kind.rawValue)
                    w.key("mode"); w.string(origin.mode ?? ruleSet.rule(id: origin.rule)?.mode.rawValue ?? "off")
                    w.key("location"); w.string(origin.location.description)
                    w.endObject()
                }
                w.endArray()
            }
            w.endObject()
            Output.standard.write(w.bytes + [0x0A])
        } else {
            for warning in ruleSet.warnings { Output.standard.line(Style.yellow(warning.description)) }
            if let overlay { printOrigins(overlay, ruleSet: ruleSet) }
            Output.standard.line(
                "\(Style.green("ok")): \(ruleSet.guidelines.count) guidelines, \(ruleSet.rules.count) rules, \(examples) examples pass; ruleset \(ruleSet.digest)")
        }
        Output.standard.flush()
    }

    /// Where each effective rule came from: shipped, added or replaced locally, or switched.
    private func printOrigins(_ overlay: RuleOverlay.Loaded, ruleSet: RuleSet) {
        let width = (overlay.origins + overlay.removed).map(\.rule.count).max() ?? 0
        Output.standard.line("effective rules (shipped \(RuleOverlay(path: ruleSet.directory)?.shipped ?? ""), local \(RuleOverlay(path: ruleSet.directory)?.local ?? "")):")
        for origin in overlay.origins + overlay.removed {
            let label: String
            switch origin.kind {
            case .shipped: label = "shipped"
            case .local: label = "local (added)"
            case .replaced: label = "local (replaces shipped)"
            case .switched: label = origin.mode == "off" ? "shipped, switched off locally" : "shipped, switched to \(origin.mode ?? "") locally"
            }
            let shadow = ruleSet.rule(id: origin.rule)?.mode == .shadow && origin.kind != .switched ? ", shadow" : ""
            Output.standard.line("  \(origin.rule.padding(toLength: width, withPad: " ", startingAt: 0))  \(label)\(shadow)  \(origin.location)")
        }
    }
}
