import ArgumentParser
import Foundation
import WardenCore
import WardenDaemon

/// `warden strikes AUTHOR`: an author's strikes, escalation and pardons, from the ledger.
struct StrikesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strikes",
        abstract: "Show an author's strikes and escalation from the strike ledger.")

    @Argument(help: "The author id, as in the posts' author.id.")
    var author: String

    @Option(name: .long, help: "State root of the daemon (default ./var).")
    var state: String = "./var"

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let ledger = try StrikesCommand.openLedger(state: state)
        let standing = try ledger.standing(of: author)
        let formatter = ISO8601DateFormatter()
        switch format {
        case .json:
            let object: [String: Any] = [
                "author": author,
                "strikes": standing.strikes.map { ["post_id": $0.postID, "guideline": $0.guideline, "at": formatter.string(from: $0.at)] },
                "escalation": standing.escalations.map(\.action).max()?.rawValue ?? NSNull(),
                "pardons": standing.pardons.map { ["guideline": $0.guideline ?? NSNull(), "at": formatter.string(from: $0.at)] as [String: Any] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        case .text:
            print("author \(author): \(standing.strikes.count) strike\(standing.strikes.count == 1 ? "" : "s")")
            for strike in standing.strikes {
                print("  \(formatter.string(from: strike.at))  \(strike.guideline)  post \(strike.postID)")
            }
            if let escalation = standing.escalations.max(by: { $0.action < $1.action }) {
                print("escalation: \(escalation.action.rawValue) since \(formatter.string(from: escalation.at)) (post \(escalation.postID)); lift it with `warden pardon \(author)`")
            } else {
                print("escalation: none")
            }
            for pardon in standing.pardons {
                let what = pardon.escalation.map { "escalated by hand to \($0.rawValue)" } ?? pardon.postID.map { "strike of post \($0) taken back" }
                    ?? "pardoned \(pardon.guideline.map { "guideline \($0)" } ?? "all strikes")"
                print("\(what) at \(formatter.string(from: pardon.at))")
            }
        }
    }

    /// Opens the daemon's ledger, or says where it looked and what to pass instead.
    static func openLedger(state: String) throws -> Ledger {
        let layout = SpoolLayout(root: state)
        guard FileManager.default.fileExists(atPath: layout.ledger) else {
            throw ValidationError("no strike ledger at \(layout.ledger); pass --state with the daemon's state root (e.g. /var/lib/warden)")
        }
        return try Ledger(path: layout.ledger)
    }
}
