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
    public var rescanInterval: TimeInterval = 30
    /// Quiet time after the last change under rules/ before reloading, so an editor's
    /// save-as-rename-and-delete dance gives one reload, not three.
    public var reloadDebounce: TimeInterval = 0.5
    /// fsync/syncfs on every batch. Off only for tests and benchmarks that say so.
    public var durable = true
    public var logLevel: Logger.Level = .info
    /// `shadow_guard: { recent_for: 24h, window: 1000, max_share: 0.05 }`.
    public var shadowGuard = ShadowGuardLimits()

    public init() {}

    public var effectiveWorkers: Int { workers > 0 ? workers : max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// The file format, in snake_case like the rest of Warden's YAML.
    private struct File: Decodable {
        struct Org: Decodable { var name: String?; var contact: String? }
        struct Limits: Decodable { var max_file_bytes: Int?; var max_text_scalars: Int? }
        struct Retention: Decodable { var done: String?; var decisions_log_bytes: Int?; var decisions_log_files: Int?; var history: String? }
        var organisation: Org?
        var rules: String?
        var state: String?
        var workers: Int?
        var metrics: String?
        var limits: Limits?
        var retention: Retention?
        var max_batch: Int?
        var max_in_flight: Int?
        var rescan_interval: String?
        var log_level: String?
        var durable: Bool?
        struct Memory: Decodable { var max_authors: Int?; var max_history_entries: Int? }
        var memory: Memory?
        struct Guard: Decodable { var recent_for: String?; var window: Int?; var max_share: Double? }
        var shadow_guard: Guard?
    }

    /// Reads a configuration file; errors name the file and say what to fix.
    public static func load(file path: String) throws -> DaemonConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(file: path, message: "cannot read the configuration file; check the path given to --config and its permissions")
        }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw ConfigurationError(file: path, message: "\(error)")
        }
        var configuration = DaemonConfiguration()
        if let org = file.organisation {
            configuration.organisation = Organisation(name: org.name ?? configuration.organisation.name,
                                                      contact: org.contact ?? configuration.organisation.contact)
        }
        if let rules = file.rules { configuration.rulesDirectory = rules }
        if let state = file.state { configuration.stateRoot = state }
        if let workers = file.workers { configuration.workers = workers }
        configuration.metricsAddress = file.metrics
        if let bytes = file.limits?.max_file_bytes { configuration.limits.maxFileBytes = bytes }
        if let scalars = file.limits?.max_text_scalars { configuration.limits.maxTextScalars = scalars }
        if let retention = file.retention {
            if let done = retention.done {
                configuration.doneRetention = done == "forever" ? nil : try duration(done, key: "retention.done", file: path)
            }
            if let history = retention.history { configuration.historyWindow = try duration(history, key: "retention.history", file: path) }
            if let bytes = retention.decisions_log_bytes { configuration.decisionsLogMaxBytes = bytes }
            if let files = retention.decisions_log_files { configuration.decisionsLogKeep = files }
        }
        if let batch = file.max_batch { configuration.maxBatch = max(1, batch) }
        if let inFlight = file.max_in_flight { configuration.maxInFlight = max(1, inFlight) }
        if let rescan = file.rescan_interval { configuration.rescanInterval = try duration(rescan, key: "rescan_interval", file: path) }
        if let level = file.log_level {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ConfigurationError(file: path, message: "log_level \"\(level)\" is not one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = parsed
        }
        if let durable = file.durable { configuration.durable = durable }
        if let authors = file.memory?.max_authors { configuration.maxAuthorsInMemory = max(1, authors) }
        if let entries = file.memory?.max_history_entries { configuration.maxHistoryEntriesInMemory = max(1, entries) }
        if let limits = file.shadow_guard {
            if let recent = limits.recent_for { configuration.shadowGuard.recentFor = try duration(recent, key: "shadow_guard.recent_for", file: path) }
            if let window = limits.window { configuration.shadowGuard.window = max(1, window) }
            if let share = limits.max_share { configuration.shadowGuard.maxShare = share }
        }
        return configuration
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

    private static func duration(_ text: String, key: String, file: String) throws -> TimeInterval {
        guard let value = parseDuration(text) else {
            throw ConfigurationError(file: file, message: "\(key): \"\(text)\" is not a duration; write it like 30s, 5m, 24h or 30d")
        }
        return value
    }
}

/// A configuration file that cannot be used, with the file and what to fix.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}
