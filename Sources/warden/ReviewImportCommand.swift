import ArgumentParser
import Foundation
import WardenConsole
import WardenDaemon

/// `warden review-import`: a single host's console state into the shared PostgreSQL store,
/// once, when the host joins a group (see `ReviewImport` and docs/CONSOLE.md).
struct ReviewImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review-import",
        abstract: "Copy this host's review console state (state/review.sqlite) into the shared PostgreSQL store of warden.yaml.",
        discussion: """
            Run once per host, after setting `ledger: postgres://…` and before the first start of \
            `warden console` on PostgreSQL: users, reviews, the audit log, the queue with what moderators \
            settled, and the host's place in its decisions.jsonl. Users already there are kept.
            """)

    @OptionGroup var storeOptions: ReviewStoreOptions

    func run() throws {
        let settings = try storeOptions.config.settings()
        let configuration = settings.configuration
        guard configuration.ledger != .sqlite else {
            throw ValidationError("the configuration's ledger is SQLite: there is nothing to import into; set ledger: postgres://… in warden.yaml and pass it with --config")
        }
        let root = storeOptions.state ?? (configuration.origins["state"] != nil ? configuration.stateRoot : "./var")
        let path = root + "/state/review.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConsoleError("no review console state at \(path); pass --state with this host's state root")
        }
        let source = try SQLiteReviewStore(path: path)
        let target = try ReviewStores.open(configuration.ledger, stateRoot: root)
        defer { target.close() }
        let counts = try ReviewImport.copy(from: source, to: target, instance: configuration.instance)
        for (table, rows) in counts { print("\(table): \(rows) row\(rows == 1 ? "" : "s") read") }
        print("imported \(path) into \(target.location) as instance \(configuration.instance)")
    }
}
