import ArgumentParser
import Foundation
import WardenConsole
import WardenDaemon

/// `--config FILE` and `--state DIR` for the commands over the review console's store
/// (`users`, `audit`): SQLite under the state root, or the shared PostgreSQL database of
/// warden.yaml's `ledger:`, where every instance's console reads the same users and audit log.
struct ReviewStoreOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(name: .long, help: "State root of the daemon (default: the configuration's `state`, else ./var).")
    var state: String?

    func open() throws -> any ReviewStore {
        let settings = try config.settings()
        let configuration = settings.configuration
        let root = state ?? (configuration.origins["state"] != nil ? configuration.stateRoot : "./var")
        return try ReviewStores.open(configuration.ledger, stateRoot: root)
    }
}
