import ArgumentParser
import Foundation
import WardenDaemon

/// `warden confirm RULE`: a moderator vouches for a new or changed rule, lifting its
/// automatic demotion to shadow mode (a running daemon applies it within a second).
struct ConfirmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Confirm a new or changed rule so the daemon enforces it even if it acts on many posts.")

    @Argument(help: "The rule id, e.g. profanity.strong. Without one, list the demoted rules.")
    var rule: String?

    @Option(name: .long, help: "State root of the daemon (default ./var).")
    var state: String = "./var"

    func run() throws {
        let directory = SpoolLayout(root: state).state
        guard FileManager.default.fileExists(atPath: directory) else {
            throw ValidationError("no daemon state at \(directory); pass --state with the daemon's state root (e.g. /var/lib/warden)")
        }
        guard let rule else {
            let demoted = try ShadowGuard.demotedRules(stateDirectory: directory)
            print(demoted.isEmpty ? "no rule is demoted" : "demoted to shadow mode:\n" + demoted.map { "  \($0)" }.joined(separator: "\n"))
            return
        }
        try ShadowGuard.confirm(rule: rule, stateDirectory: directory)
        print("confirmed \(rule): it is enforced even if it acts on many posts, until it is changed again")
    }
}
