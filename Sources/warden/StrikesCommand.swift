import ArgumentParser
import Foundation
import WardenCore
import WardenDaemon

/// `warden strikes AUTHOR`: an author's strikes, escalation and pardons, from the ledger.
/// `warden strikes --escalated`: every author under an escalation now.
struct StrikesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strikes",
        abstract: "Show an author's strikes and escalation, or every escalated author, from the strike ledger.",
        discussion: "Reads the ledger read-only: read access to the state directory is enough.")

    @Argument(help: "The author id, as in the posts' author.id.")
    var author: String?

    @Flag(name: .long, help: "List every author under an escalation (hold_author, block_author) instead.")
    var escalated = false

    @OptionGroup var config: ConfigOptions
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if author == nil && !escalated { throw ValidationError("give an AUTHOR, or --escalated for every escalated author") }
        if author != nil && escalated { throw ValidationError("give an AUTHOR or --escalated, not both") }
    }

    func run() throws {
        let settings = try config.settings()
        let ledger = try Self.openLedger(settings: settings, state: stateOptions.root(settings: settings), readOnly: true)
        defer { ledger.close() }
        let formatter = ISO8601DateFormatter()
        guard let author else {
            let authors = try ledger.escalatedAuthors()
            switch output.format {
            case .json:
                let list: [[String: Any]] = authors.map {
                    ["author": $0.author, "escalation": $0.escalation.action.rawValue, "since": formatter.string(from: $0.escalation.at), "post_id": $0.escalation.postID]
                }
                print(String(decoding: try JSONSerialization.data(withJSONObject: list, options: [.sortedKeys]), as: UTF8.self))
            case .text:
                if authors.isEmpty { print("no author is escalated") }
                for (author, record) in authors {
                    print("\(author)\t\(record.action.rawValue)\tsince \(formatter.string(from: record.at))\tpost \(record.postID)")
                }
            }
            return
        }
        let standing = try ledger.standing(of: author)
        switch output.format {
        case .json:
            let object: [String: Any] = [
                "author": author,
                "strikes": standing.strikes.map { ["post_id": $0.postID, "guideline": $0.guideline, "at": formatter.string(from: $0.at)] },
                "escalation": standing.escalations.map(\.action).max()?.rawValue ?? NSNull(),
                "pardons": standing.pardons.map {
                    ["guideline": $0.guideline ?? NSNull(), "at": formatter.string(from: $0.at),
                     "moderator": $0.moderator ?? NSNull(), "reason": $0.reason ?? NSNull()] as [String: Any]
                },
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
                let who = pardon.moderator.map { " by \($0)" } ?? ""
                let why = pardon.reason.map { ": \($0)" } ?? ""
                let what = pardon.escalation.map { "escalated by hand to \($0.rawValue)" } ?? pardon.postID.map { "strike of post \($0) taken back" }
                    ?? "pardoned \(pardon.guideline.map { "guideline \($0)" } ?? "all strikes")"
                print("\(what) at \(formatter.string(from: pardon.at))\(who)\(why)")
            }
        }
    }

    /// Opens the ledger the daemon of this configuration uses (the SQLite file under the
    /// state root, or the shared PostgreSQL database of `ledger:`), or says where it looked
    /// and what to pass instead (exit 2, without the usage text: the command line was fine,
    /// the state is not where it said).
    static func openLedger(settings: Settings, state: String, readOnly: Bool) throws -> any ModeratorLedger {
        do {
            return try ModeratorLedgers.open(settings.configuration.ledger, stateRoot: state, readOnly: readOnly)
        } catch {
            Output.error("warden: \(error.description)")
            throw ExitStatus.inputError
        }
    }
}
