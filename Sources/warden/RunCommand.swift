import ArgumentParser
import Foundation
import WardenCore
import Logging
import WardenDaemon

/// `warden run`: the daemon. Everything it does is in WardenDaemon; this only turns the
/// command line and config file into a `DaemonConfiguration`.
///
/// A synchronous command on purpose: it works under a synchronous or an asynchronous root
/// command, and the daemon's loop owns the calling thread (the metrics server runs on its
/// own event loops through a detached task).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the moderation daemon on a spool directory.",
        discussion: """
            Posts renamed into STATE/inbox/ are judged; action files appear in STATE/outbox/.
            SIGHUP (or any change under the rules directory) reloads the rules; SIGTERM stops
            after finishing the posts in flight. Under systemd (Type=notify) it reports
            READY=1, RELOADING=1, STATUS= and WATCHDOG=1.
            """)

    @Option(name: .long, help: "Configuration file (YAML), e.g. /etc/warden/warden.yaml.")
    var config: String?

    @Option(name: .long, help: "Rules directory (default ./rules, or the config file's `rules`).")
    var rules: String?

    @Option(name: .long, help: "State root holding inbox/, outbox/, … (default ./var).")
    var state: String?

    @Option(name: .long, help: "Judging threads (default: one per core).")
    var workers: Int?

    @Option(name: .long, help: "Serve /metrics and /healthz on HOST:PORT, e.g. 127.0.0.1:9464.")
    var metrics: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String?

    @Flag(name: .long, help: "Skip fsync/syncfs (tests and benchmarks only: a power cut may lose decisions).")
    var noSync = false

    func run() throws {
        var configuration = DaemonConfiguration()
        if let config { configuration = try DaemonConfiguration.load(file: config) }
        if let rules { configuration.rulesDirectory = rules }
        if let state { configuration.stateRoot = state }
        if let workers { configuration.workers = workers }
        if let metrics { configuration.metricsAddress = metrics }
        if noSync { configuration.durable = false }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = level
        }
        if let address = configuration.metricsAddress, MetricsServer.parse(address: address) == nil {
            throw ValidationError("--metrics \(address) is not HOST:PORT, e.g. 127.0.0.1:9464")
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "warden")

        let daemon: Daemon
        do {
            daemon = try Daemon(configuration: configuration, logger: logger, matching: matchingOptionsFromEnvironment())
        } catch {
            logger.critical("\(error)")
            throw ExitCode(78)  // EX_CONFIG: systemd shows it, and Restart= does not loop fast on it
        }
        // The daemon serves --metrics itself, bound before READY=1 (an address in use is a start-up error).
        do {
            try daemon.run()
        } catch {
            logger.critical("warden stopped on an error", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}
