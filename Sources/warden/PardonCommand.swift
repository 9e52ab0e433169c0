import ArgumentParser
import Foundation
import WardenCore
import WardenDaemon

/// `warden pardon AUTHOR [--guideline G] [--reason TEXT]`: forgive strikes and lift an
/// escalation. Written to the ledger with who and why; a running daemon picks it up within
/// a second, no restart needed.
struct PardonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pardon",
        abstract: "Forgive an author's strikes (all, or one guideline's) and lift any escalation.")

    @Argument(help: "The author id, as in the posts' author.id.")
    var author: String

    @Option(name: .long, help: "Forgive only this guideline's strikes (a guideline id from the rules, e.g. profanity).")
    var guideline: String?

    @Option(name: .long, help: "Why, kept in the ledger and shown by `warden strikes`.")
    var reason: String?

    @Option(name: .long, help: "The moderator pardoning (default: $SUDO_USER, else $USER).")
    var by: String?

    @OptionGroup var config: ConfigOptions
    @OptionGroup var rules: RulesLocationOptions
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let settings = try config.settings()
        let ledger = try StrikesCommand.openLedger(settings: settings, state: stateOptions.root(settings: settings), readOnly: false)
        defer { ledger.close() }
        if let guideline {
            // A typo must not lift an escalation: the name must be a guideline of the rules in
            // force, or one the ledger has strikes for (a guideline since removed).
            var known = try ledger.struckGuidelines()
            if let ruleSet = try? RuleLoader.load(directory: rules.path(settings: settings), runExamples: false) {
                known.formUnion(ruleSet.guidelines.map(\.id))
            }
            guard known.contains(guideline) else { throw unknownName("guideline", guideline, known: known) }
        }
        let environment = ProcessInfo.processInfo.environment
        let moderator = by ?? environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"]
        let removed = try ledger.pardon(author: author, guideline: guideline, at: Date(), moderator: moderator, reason: reason)
        let scope = guideline.map { "\($0) strikes" } ?? "strikes"
        print("pardoned \(author): \(removed) \(scope) removed, escalation lifted" + (moderator.map { " (by \($0))" } ?? ""))
    }
}
