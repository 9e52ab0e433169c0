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
            Posts renamed into STATE/inbox/ are judged; action files appear in STATE/outbox/. \
            SIGHUP (or any change under the rules directory) reloads the rules; SIGTERM stops \
            after finishing the posts in flight. Under systemd (Type=notify) it reports READY=1, \
            RELOADING=1, STATUS= and WATCHDOG=1, and logs one line per event with its syslog priority.

            Exit status: 0 stopped on request, 1 stopped on an error, 78 (EX_CONFIG) the \
            configuration file or the rules are missing or invalid (systemd does not restart on it).
            """)

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let configuration = try daemon.effectiveConfiguration()
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "warden")
        logger.notice("warden starting", metadata: [
            "version": "\(BuildInfo.version)", "commit": "\(BuildInfo.commit)", "config": "\((try? daemon.config.settings())?.configFile ?? "(none)")",
        ])
        let metrics = DaemonMetrics()
        metrics.recordBuild(version: BuildInfo.version, commit: BuildInfo.commit)

        let daemon: Daemon
        do {
            daemon = try Daemon(configuration: configuration, logger: logger, metrics: metrics, matching: matchingOptionsFromEnvironment())
        } catch {
            logger.critical("\(error)")
            throw ExitStatus.configError  // systemd shows it, and RestartPreventExitStatus=78 stops the restart loop
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

/// `--log-level debug`: parsed and listed in `--help` by the argument parser itself.
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// What `warden run` is told on its command line, shared with `warden config`, which shows
/// the configuration `run` would use.
struct DaemonOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions
    @OptionGroup var rules: RulesLocationOptions
    @OptionGroup var stateOptions: StateOptions

    @Option(name: .long, help: "Judging threads (default: one per core).")
    var workers: Int?

    @Option(name: .long, help: "Serve /metrics and /healthz on HOST:PORT, e.g. 127.0.0.1:9464.")
    var metrics: String?

    @Option(name: .long, help: "Log level (default: the configuration's log_level, else info).")
    var logLevel: Logger.Level?

    @Flag(name: .long, help: "Skip fsync/syncfs (tests and benchmarks only: a power cut may lose decisions).")
    var noSync = false

    func validate() throws {
        if let workers, workers < 0 { throw ValidationError("--workers must be 0 (one per core) or more") }
        if let metrics, MetricsServer.parse(address: metrics) == nil {
            throw ValidationError("--metrics \(metrics) is not HOST:PORT, e.g. 127.0.0.1:9464")
        }
    }

    /// The configuration file's values with the command line's on top, each with its origin.
    func effectiveConfiguration() throws -> DaemonConfiguration {
        let settings = try config.settings()
        var configuration = settings.configuration
        configuration.rulesDirectory = rules.path(settings: settings)
        configuration.localRulesDirectory = nil  // folded into rulesDirectory as SHIPPED:LOCAL
        if rules.rules != nil { configuration.origins["rules"] = "--rules" }
        if rules.localRules != nil { configuration.origins["local_rules"] = "--local-rules" }
        configuration.stateRoot = stateOptions.root(settings: settings)
        if stateOptions.state != nil { configuration.origins["state"] = "--state" }
        if let workers { configuration.workers = workers; configuration.origins["workers"] = "--workers" }
        if let metrics { configuration.metricsAddress = metrics; configuration.origins["metrics"] = "--metrics" }
        if noSync { configuration.durable = false; configuration.origins["durable"] = "--no-sync" }
        if let logLevel { configuration.logLevel = logLevel; configuration.origins["log_level"] = "--log-level" }
        configuration.takeLedgerPasswordFromEnvironment()
        return configuration
    }
}
