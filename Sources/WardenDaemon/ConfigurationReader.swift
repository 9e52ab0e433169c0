import Foundation
import Logging
import WardenCore
import Yams

/// Walks warden.yaml's YAML tree, applying each known key and collecting a problem, with
/// its line and column, for every unknown key and every value of the wrong type.
struct ConfigurationReader {
    let file: String
    var problems: [ConfigurationError.Problem] = []
    /// `ledger_password_file`, kept until `ledger` is read (the keys may come in either order).
    var passwordFile: (path: String, node: Node)? = nil

    /// A password file without a PostgreSQL ledger is a mistake worth saying.
    mutating func checkLedger(_ configuration: DaemonConfiguration) {
        if let passwordFile, configuration.ledger.postgres == nil {
            error(passwordFile.node, "ledger_password_file is set but the ledger is SQLite; set ledger: postgres://USER@HOST/DATABASE, or remove it")
        }
    }

    static func problem(_ error: YamlError) -> ConfigurationError.Problem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return .init(line: mark.line, column: mark.column, message: "YAML syntax error: \(problem)\(context.map { " \($0.text)" } ?? "")")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .init(line: context.mark.line, column: context.mark.column,
                         message: "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in a mapping")
        default:
            return .init(line: 1, column: 1, message: "YAML error: \(error)")
        }
    }

    mutating func error(_ node: Node, _ message: String) {
        problems.append(.init(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, message: message))
    }

    func origin(_ node: Node) -> String { "\(file):\(node.mark?.line ?? 1):\(node.mark?.column ?? 1)" }

    mutating func apply(_ root: Node, to configuration: inout DaemonConfiguration) {
        guard let mapping = root.mapping else {
            error(root, "the configuration must be a mapping of keys such as organisation, workers and retention")
            return
        }
        let sections = Set(DaemonConfiguration.keys.compactMap { $0.split(separator: ".").count == 2 ? String($0.split(separator: ".")[0]) : nil })
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                error(keyNode, "keys must be plain names")
                continue
            }
            if sections.contains(key) {
                guard let inner = value.mapping else {
                    error(value, "\"\(key)\" must be a mapping (e.g. \(key):\n  \(DaemonConfiguration.keys.first { $0.hasPrefix(key + ".") }?.dropFirst(key.count + 1) ?? ""): …)")
                    continue
                }
                for (innerKey, innerValue) in inner {
                    guard let name = innerKey.string else {
                        error(innerKey, "keys must be plain names")
                        continue
                    }
                    set(key + "." + name, keyNode: innerKey, value: innerValue, in: &configuration)
                }
            } else {
                set(key, keyNode: keyNode, value: value, in: &configuration)
            }
        }
    }

    private mutating func set(_ key: String, keyNode: Node, value: Node, in c: inout DaemonConfiguration) {
        guard DaemonConfiguration.keys.contains(key) else {
            let candidates = DaemonConfiguration.keys + Set(DaemonConfiguration.keys.map { String($0.split(separator: ".")[0]) })
            let leaf = key.split(separator: ".").last.map(String.init) ?? key
            let hint = (DidYouMean.suggest(key, from: candidates) ?? DidYouMean.suggest(leaf, from: DaemonConfiguration.keys.map { String($0.split(separator: ".").last ?? "") }))
                .map { "; did you mean \"\($0)\"?" } ?? ""
            error(keyNode, "unknown key \"\(key)\"\(hint)")
            return
        }
        let before = problems.count
        switch key {
        case "organisation.name": if let v = string(value, key) { c.organisation.name = v }
        case "organisation.contact": if let v = string(value, key) { c.organisation.contact = v }
        case "organisation.guidelines_footer":
            if let v = string(value, key) {
                let compiled = MessageTemplate.compile(v)
                for problem in compiled.problems { error(value, "in \(key): \(problem.message)") }
                c.guidelinesFooter = v
            }
        case "rules": if let v = string(value, key) { c.rulesDirectory = v }
        case "local_rules": if let v = string(value, key) { c.localRulesDirectory = v }
        case "state": if let v = string(value, key) { c.stateRoot = v }
        case "workers": if let v = int(value, key, minimum: 0) { c.workers = v }
        case "metrics":
            if let v = string(value, key) {
                if MetricsServer.parse(address: v) == nil { error(value, "metrics: \"\(v)\" is not HOST:PORT, e.g. 127.0.0.1:9464") }
                c.metricsAddress = v
            }
        case "limits.max_file_bytes": if let v = int(value, key, minimum: 1) { c.limits.maxFileBytes = v }
        case "limits.max_text_scalars": if let v = int(value, key, minimum: 1) { c.limits.maxTextScalars = v }
        case "retention.done":
            if value.string == "forever" { c.doneRetention = nil } else if let v = duration(value, key, orForever: true) { c.doneRetention = v }
        case "retention.history": if let v = duration(value, key) { c.historyWindow = v }
        case "retention.decisions_log_bytes": if let v = int(value, key, minimum: 1) { c.decisionsLogMaxBytes = v }
        case "retention.decisions_log_files": if let v = int(value, key, minimum: 1) { c.decisionsLogKeep = v }
        case "memory.max_authors": if let v = int(value, key, minimum: 1) { c.maxAuthorsInMemory = v }
        case "memory.max_history_entries": if let v = int(value, key, minimum: 1) { c.maxHistoryEntriesInMemory = v }
        case "shadow_guard.recent_for": if let v = duration(value, key) { c.shadowGuard.recentFor = v }
        case "shadow_guard.window": if let v = int(value, key, minimum: 1) { c.shadowGuard.window = v }
        case "shadow_guard.max_share":
            if let scalar = value.scalar, let v = Double.construct(from: scalar), v > 0, v <= 1 { c.shadowGuard.maxShare = v } else {
                error(value, "\(key) must be a share between 0 and 1, e.g. 0.05")
            }
        case "max_batch": if let v = int(value, key, minimum: 1) { c.maxBatch = v }
        case "max_in_flight": if let v = int(value, key, minimum: 1) { c.maxInFlight = v }
        case "max_noticed": if let v = int(value, key, minimum: 1) { c.maxNoticed = v }
        case "rescan_interval": if let v = duration(value, key) { c.rescanInterval = v }
        case "log_level":
            if let v = string(value, key) {
                if let level = Logger.Level(rawValue: v) { c.logLevel = level } else {
                    let hint = DidYouMean.suggest(v, from: Logger.Level.allCases.map(\.rawValue)).map { "did you mean \"\($0)\"? " } ?? ""
                    error(value, "log_level \"\(v)\" is not a level; \(hint)levels are \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
        case "durable":
            if let scalar = value.scalar, let v = Bool.construct(from: scalar) { c.durable = v } else { error(value, "\(key) must be true or false") }
        case "ledger":
            if let v = string(value, key) {
                if v == "sqlite" {
                    c.ledger = .sqlite
                } else {
                    switch PostgresSettings.parse(v) {
                    case .success(var settings):
                        settings.passwordFile = c.ledger.postgres?.passwordFile ?? passwordFile?.path
                        c.ledger = .postgres(settings)
                    case .failure(let problem): error(value, "ledger: \(problem.message)")
                    }
                }
            }
        case "instance":
            if let v = string(value, key) {
                if DaemonConfiguration.isValidInstanceName(v) { c.instance = v } else {
                    error(value, "instance must be 1 to 64 letters, digits, '.', '_' or '-' (it names this host on the review console); got \"\(v)\"")
                }
            }
        case "ledger_password_file":
            if let v = string(value, key) {
                passwordFile = (v, value)
                if case .postgres(var settings) = c.ledger {
                    settings.passwordFile = v
                    c.ledger = .postgres(settings)
                }
            }
        default: break
        }
        if problems.count == before { c.origins[key] = origin(value) }
    }

    private mutating func string(_ node: Node, _ key: String) -> String? {
        guard let scalar = node.scalar else {
            error(node, "\(key) must be a text value")
            return nil
        }
        return scalar.string
    }

    private mutating func int(_ node: Node, _ key: String, minimum: Int) -> Int? {
        guard let scalar = node.scalar, let value = Int.construct(from: scalar) else {
            let shown = node.scalar.map { " (found \"\($0.string)\")" } ?? ""
            error(node, "\(key) must be a whole number\(shown)")
            return nil
        }
        guard value >= minimum else {
            error(node, "\(key) must be at least \(minimum) (found \(value))")
            return nil
        }
        return value
    }

    private mutating func duration(_ node: Node, _ key: String, orForever: Bool = false) -> TimeInterval? {
        guard let text = node.scalar?.string, let value = DaemonConfiguration.parseDuration(text) else {
            let shown = node.scalar.map { "\"\($0.string)\" " } ?? ""
            error(node, "\(key): \(shown)is not a duration; write it like 30s, 5m, 24h or 30d\(orForever ? ", or forever" : "")")
            return nil
        }
        return value
    }
}
