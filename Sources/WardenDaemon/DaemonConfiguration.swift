import Foundation
import WardenCore
import Logging
import Yams

/// Everything `warden run` can be told, from /etc/warden/warden.yaml (`--config`) and then
/// the command line, which wins. Defaults are what a small organisation needs unchanged.
public struct DaemonConfiguration: Sendable {
    public var rulesDirectory = "./rules"
    public var stateRoot = "./var"
    public var organisation = Organisation()
    public var limits = PostLimits()
    /// Judging threads; 0 means one per core.
    public var workers = 0
    /// `HOST:PORT` to serve /metrics and /healthz on; nil serves nothing.
    public var metricsAddress: String?
    /// done/ files older than this are deleted; nil keeps them forever.
    public var doneRetention: TimeInterval? = 30 * 86_400
    public var decisionsLogMaxBytes = 64 << 20
    public var decisionsLogKeep = 10
    /// How long post history is kept for `repeat_post` and `flood`: the longest `within:`
    /// the rules may use. Longer costs memory (one small record per post and author).
    public var historyWindow: TimeInterval = 86_400
    /// Authors whose past (posts, strikes, escalations) is kept in memory, at most; the
    /// least recently active beyond it are read back from the ledger when they post again.
    /// Bounds memory however many distinct authors post; decisions are the same either way.
    /// About 200 bytes an author plus their entries.
    public var maxAuthorsInMemory = 50_000
    /// Posts, strikes and escalations kept in memory over all authors, at most (a post is
    /// about 32–64 bytes): 500,000 is 16–32 MB, and bounds the few authors who post a lot.
    public var maxHistoryEntriesInMemory = 500_000
    /// Outcomes (about two per post) per durable batch: one ledger transaction, one
    /// `syncfs`, two directory fsyncs. A batch is whatever is ready when the previous one
    /// is durable, so at low load batches are small and fast; this caps them in a burst.
    /// 256 capped a burst at ~4,600 posts/s on the CI machine's disk; 2,048 lets the fixed
    /// cost of the syncs spread over more posts (figures in docs/DAEMON.md).
    public var maxBatch = 2048
    /// Posts claimed and not yet finished, at most: bounds memory and processing/ in a burst.
    public var maxInFlight = 4096
    /// Names of posts waiting in inbox/ that the daemon keeps in memory, at most
    /// (`max_noticed` in warden.yaml): beyond it, the rest are taken oldest first from listings of
    /// inbox/, so a daemon millions of posts behind holds about 100 bytes × this, not × the
    /// backlog (docs/RELIABILITY.md, "A soak that fell behind").
    public var maxNoticed = 65_536
    public var rescanInterval: TimeInterval = 30
    /// How often strikes and posts older than their windows are forgotten, in memory and in
    /// the ledger. Not in warden.yaml: ten minutes is right for production; soaks shorten it
    /// (`WARDEN_PRUNE_INTERVAL=SECONDS` in the environment) to see many prunes in one run.
    public var pruneInterval: TimeInterval = {
        guard let text = ProcessInfo.processInfo.environment["WARDEN_PRUNE_INTERVAL"], let seconds = TimeInterval(text), seconds >= 1 else { return 600 }
        return seconds
    }()
    /// Quiet time after the last change under rules/ before reloading, so an editor's
    /// save-as-rename-and-delete dance gives one reload, not three.
    public var reloadDebounce: TimeInterval = 0.5
    /// fsync/syncfs on every batch. Off only for tests and benchmarks that say so.
    public var durable = true
    public var logLevel: Logger.Level = .info
    /// Overrides and additions to the shipped rules (`/etc/warden/rules.d` on a server);
    /// nil for a checkout's single `./rules`.
    public var localRulesDirectory: String?
    /// The last line of `warden guidelines`, a template moderators may reword or translate
    /// (`{{org.name}}`, `{{org.contact}}`).
    public var guidelinesFooter = "If you think we got it wrong, tell {{org.name}} by {{org.contact}}."
    /// `shadow_guard: { recent_for: 24h, window: 1000, max_share: 0.05 }`.
    public var shadowGuard = ShadowGuardLimits()
    /// Where strikes, history and the shadow guard are kept: SQLite under `state/` (one
    /// host), or a PostgreSQL database shared by several hosts (`ledger: postgres://…`).
    public var ledger = LedgerLocation.sqlite
    /// This host's name among the instances sharing a PostgreSQL ledger: the review console
    /// tags the decisions it indexes with it and lists each instance's ruleset under it.
    /// Default: the host name. 1 to 64 of letters, digits, `.`, `_`, `-`.
    public var instance = ProcessInfo.processInfo.hostName

    public init() {}

    /// Whether `name` may name an instance (see `instance`).
    public static func isValidInstanceName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || ".-_".unicodeScalars.contains($0) }
    }

    public var effectiveWorkers: Int { workers > 0 ? workers : max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Where each value came from, by its key in warden.yaml (`workers`, `retention.done`):
    /// `FILE:LINE:COLUMN`, `--flag`, or absent for a default. `warden config` prints it.
    public var origins: [String: String] = [:]

    /// Every key warden.yaml may have, in the order `warden config` prints them. A key
    /// not listed is an error with a did-you-mean, as in the rule files.
    public static let keys: [String] = [
        "organisation.name", "organisation.contact", "organisation.guidelines_footer",
        "rules", "local_rules", "state", "workers", "metrics",
        "limits.max_file_bytes", "limits.max_text_scalars",
        "retention.done", "retention.history", "retention.decisions_log_bytes", "retention.decisions_log_files",
        "memory.max_authors", "memory.max_history_entries",
        "shadow_guard.recent_for", "shadow_guard.window", "shadow_guard.max_share",
        "max_batch", "max_in_flight", "max_noticed", "rescan_interval", "log_level", "durable",
        "ledger", "ledger_password_file", "instance",
    ]

    /// Reads a configuration file; every problem is reported at once, each as
    /// `FILE:LINE:COLUMN: message`, like the rule files.
    public static func load(file path: String) throws(ConfigurationError) -> DaemonConfiguration {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(file: path, message: "configuration file not found; give the right path with --config, or create it (an example is in /usr/share/doc/warden/examples/warden.yaml)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, message: "cannot read the configuration file; check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, message: "the configuration file is not valid UTF-8")
        }
        var reader = ConfigurationReader(file: path)
        var configuration = DaemonConfiguration()
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError(file: path, problems: [ConfigurationReader.problem(error)])
        } catch {
            throw ConfigurationError(file: path, message: "YAML error: \(error)")
        }
        if let root { reader.apply(root, to: &configuration) }
        reader.checkLedger(configuration)
        guard reader.problems.isEmpty else { throw ConfigurationError(file: path, problems: reader.problems) }
        return configuration
    }

    /// The rules to load: the shipped directory, then the local overrides after a ':'
    /// (see RuleOverlay), or the one directory of a checkout.
    public var rulesPath: String {
        localRulesDirectory.map { rulesDirectory + ":" + $0 } ?? rulesDirectory
    }

    /// Effective values as `warden config` prints them, with a key's default shown as such.
    public func effectiveValues() -> [(key: String, value: String, origin: String)] {
        func text(_ key: String) -> String {
            switch key {
            case "organisation.name": return organisation.name
            case "organisation.contact": return organisation.contact
            case "organisation.guidelines_footer": return guidelinesFooter
            case "rules": return rulesDirectory
            case "local_rules": return localRulesDirectory ?? "(none)"
            case "state": return stateRoot
            case "workers": return workers == 0 ? "0 (one per core: \(effectiveWorkers))" : "\(workers)"
            case "metrics": return metricsAddress ?? "(off)"
            case "limits.max_file_bytes": return "\(limits.maxFileBytes)"
            case "limits.max_text_scalars": return "\(limits.maxTextScalars)"
            case "retention.done": return doneRetention.map(Self.formatDuration) ?? "forever"
            case "retention.history": return Self.formatDuration(historyWindow)
            case "retention.decisions_log_bytes": return "\(decisionsLogMaxBytes)"
            case "retention.decisions_log_files": return "\(decisionsLogKeep)"
            case "memory.max_authors": return "\(maxAuthorsInMemory)"
            case "memory.max_history_entries": return "\(maxHistoryEntriesInMemory)"
            case "shadow_guard.recent_for": return Self.formatDuration(shadowGuard.recentFor)
            case "shadow_guard.window": return "\(shadowGuard.window)"
            case "shadow_guard.max_share": return "\(shadowGuard.maxShare)"
            case "max_batch": return "\(maxBatch)"
            case "max_in_flight": return "\(maxInFlight)"
            case "max_noticed": return "\(maxNoticed)"
            case "rescan_interval": return Self.formatDuration(rescanInterval)
            case "log_level": return logLevel.rawValue
            case "durable": return "\(durable)"
            case "ledger": return ledger.description
            case "ledger_password_file": return ledger.postgres?.passwordFile ?? "(none)"
            case "instance": return instance
            default: return "?"
            }
        }
        return Self.keys.map { ($0, text($0), origins[$0] ?? "default") }
    }

    static func formatDuration(_ seconds: TimeInterval) -> String {
        for (unit, size) in [("d", 86_400.0), ("h", 3_600.0), ("m", 60.0)] where seconds >= size && seconds.truncatingRemainder(dividingBy: size) == 0 {
            return "\(Int(seconds / size))\(unit)"
        }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }

    /// `30s`, `5m`, `24h`, `30d`, as in the rule files.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3600
        case "d": return value * 86_400
        default: return nil
        }
    }
}

/// Where the daemon keeps its ledger (`ledger:` in warden.yaml).
public enum LedgerLocation: Sendable, Equatable, CustomStringConvertible {
    /// `state/ledger.sqlite` under the state root: one host.
    case sqlite
    /// A database shared by several hosts.
    case postgres(PostgresSettings)

    public var postgres: PostgresSettings? {
        if case .postgres(let settings) = self { return settings }
        return nil
    }

    public var description: String { postgres.map(\.description) ?? "sqlite" }
}

/// A configuration file that cannot be used: every problem with its line and column.
public struct ConfigurationError: Error, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var message: String
    }

    public var file: String
    public var problems: [Problem]

    public init(file: String, message: String) {
        self.file = file
        problems = [Problem(line: 0, column: 0, message: message)]
    }

    public init(file: String, problems: [Problem]) {
        self.file = file
        self.problems = problems
    }

    /// The first problem's text (what one-line callers show).
    public var message: String { problems.first?.message ?? "" }

    public var description: String {
        problems.map { $0.line > 0 ? "\(file):\($0.line):\($0.column): error: \($0.message)" : "\(file): \($0.message)" }
            .joined(separator: "\n")
    }
}
