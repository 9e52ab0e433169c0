import ArgumentParser
import Foundation
import WardenCore
import WardenDaemon

/// `warden confirm RULE`: a moderator vouches for a new or changed rule, lifting its
/// automatic demotion to shadow mode (a running daemon applies it within a second).
struct ConfirmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Confirm a new or changed rule so the daemon enforces it even if it acts on many posts.")

    @Argument(help: "The rule id, e.g. profanity.strong. Without one, list the demoted rules.")
    var rule: String?

    @OptionGroup var config: ConfigOptions
    @OptionGroup var rules: RulesLocationOptions
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let settings = try config.settings()
        let ledger = try StrikesCommand.openLedger(settings: settings, state: stateOptions.root(settings: settings), readOnly: rule == nil)
        defer { ledger.close() }
        let demoted = try ledger.demotedRules()
        guard let rule else {
            print(demoted.isEmpty ? "no rule is demoted" : "demoted to shadow mode:\n" + demoted.map { "  \($0)" }.joined(separator: "\n"))
            return
        }
        // Confirming a misspelt id would succeed silently and leave the real rule demoted.
        var known = Set(demoted)
        if let ruleSet = try? RuleLoader.load(directory: rules.path(settings: settings), runExamples: false) {
            known.formUnion(ruleSet.ruleIDs)
        }
        guard known.contains(rule) else { throw unknownName("rule", rule, known: known) }
        try ledger.confirmRule(rule, at: Date())
        print("confirmed \(rule): it is enforced even if it acts on many posts, until it is changed again")
    }
}
