import ArgumentParser
import Foundation
import WardenCore
import WardenDaemon

/// `warden pardon AUTHOR [--guideline G]`: forgive strikes and lift an escalation. Written
/// to the ledger; a running daemon picks it up within a second, no restart needed.
struct PardonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pardon",
        abstract: "Forgive an author's strikes (all, or one guideline's) and lift any escalation.")

    @Argument(help: "The author id, as in the posts' author.id.")
    var author: String

    @Option(name: .long, help: "Forgive only this guideline's strikes.")
    var guideline: String?

    @Option(name: .long, help: "State root of the daemon (default ./var).")
    var state: String = "./var"

    func run() throws {
        let ledger = try StrikesCommand.openLedger(state: state)
        let removed = try ledger.pardon(author: author, guideline: guideline)
        let scope = guideline.map { "\($0) strikes" } ?? "strikes"
        print("pardoned \(author): \(removed) \(scope) removed, escalation lifted")
    }
}
