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
        let directory = SpoolLayout(root: stateOptions.root(settings: settings)).state
        guard FileManager.default.fileExists(atPath: directory) else {
            Output.error("warden: no daemon state at \(directory); pass --state with the daemon's state root (e.g. /var/lib/warden)")
            throw ExitStatus.inputError
        }
        let demoted = try ShadowGuard.demotedRules(stateDirectory: directory)
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
        try ShadowGuard.confirm(rule: rule, stateDirectory: directory)
        print("confirmed \(rule): it is enforced even if it acts on many posts, until it is changed again")
    }
}
