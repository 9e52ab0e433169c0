import ArgumentParser
import Foundation
import Logging
import WardenConsole
import WardenDaemon

/// `warden console`: the review console, a process of its own beside the daemon (see
/// docs/CONSOLE.md for why), over the daemon's state root.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the review console (held posts, appeals, past decisions) on HOST:PORT.",
        discussion: """
            Reads the daemon's decisions.jsonl into STATE/state/review.sqlite (or, with a PostgreSQL \
            `ledger:` in warden.yaml, into that database, shared by every instance) and writes moderators' \
            decisions as action files into STATE/outbox/. Add users first with `warden users add NAME --role admin`.
            """)

    @Option(name: .long, help: "Daemon configuration file (warden.yaml): the state root and rules directory come from it.")
    var config: String?

    @Option(name: .long, help: "State root of the daemon (default ./var, or the config file's `state`).")
    var state: String?

    @Option(name: .long, help: "Rules directory (default ./rules, or the config file's `rules`).")
    var rules: String?

    @Option(name: .long, help: "Address to listen on (default 127.0.0.1:8080; put a TLS proxy in front for anything else).")
    var listen: String = "127.0.0.1:8080"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        guard MetricsServer.parse(address: listen) != nil else { throw ValidationError("--listen \(listen) is not HOST:PORT, e.g. 127.0.0.1:8080") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error") }
    }

    func run() async throws {
        var daemonConfiguration = DaemonConfiguration()
        if let config { daemonConfiguration = try DaemonConfiguration.load(file: config) }
        daemonConfiguration.takeLedgerPasswordFromEnvironment()
        var configuration = ConsoleConfiguration(stateRoot: state ?? daemonConfiguration.stateRoot,
                                                 rulesDirectory: rules ?? daemonConfiguration.rulesDirectory)
        configuration.ledger = daemonConfiguration.ledger
        configuration.instance = daemonConfiguration.instance
        if let (host, port) = MetricsServer.parse(address: listen) {
            configuration.host = host
            configuration.port = port
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "warden.console")
        let console: ReviewConsole
        do {
            console = try ReviewConsole(configuration: configuration, logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(78)
        }
        if try console.accounts.users().isEmpty {
            let store = configuration.ledger == .sqlite ? "--state \(configuration.stateRoot)" : "--config \(config ?? "/etc/warden/warden.yaml")"
            logger.warning("no console users yet: add one with `warden users add NAME --role admin \(store)`")
        }
        try await console.run()
    }
}
