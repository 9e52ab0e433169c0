import Foundation
import Logging
import PostgresNIO

/// The shadow guard's state in the shared ledger, as `Ledger+ShadowGuard.swift` keeps it in
/// SQLite. Shared by every instance: rules seen, confirmations and demotions. Each instance
/// counts its own window of posts (the guard's ring is in memory); see docs/STORAGE.md.
extension PostgresLedger {
    func shadowGuardState() throws -> Ledger.GuardState {
        try sessions.withConnection { connection in
            let logger = sessions.queryLogger
            var seen: [String: ShadowGuard.Seen] = [:]
            for row in try connection.run("SELECT rule, fingerprint, changed_at FROM rules_seen", logger: logger) {
                let (rule, fingerprint, changedAt) = try row.decode((String, String, Double).self)
                seen[rule] = ShadowGuard.Seen(fingerprint: fingerprint, changedAt: Date(timeIntervalSince1970: changedAt))
            }
            var demoted: Set<String> = []
            for row in try connection.run("SELECT rule FROM rule_demotions", logger: logger) { demoted.insert(try row.decode(String.self)) }
            return Ledger.GuardState(seen: seen, confirmed: try Self.confirmations(connection, logger: logger), demoted: demoted)
        }
    }

    func saveShadowGuard(seen: [String: ShadowGuard.Seen], demoted: Set<String>) throws {
        try sessions.withTransaction { connection in
            let logger = sessions.queryLogger
            try connection.run("DELETE FROM rules_seen", logger: logger)
            for (rule, entry) in seen {
                try connection.run("INSERT INTO rules_seen(rule, fingerprint, changed_at) VALUES (\(rule), \(entry.fingerprint), \(entry.changedAt.timeIntervalSince1970))",
                                   logger: logger)
            }
            try Self.replaceDemotions(connection, demoted, logger: sessions.queryLogger)
        }
    }

    func saveDemotions(_ demoted: Set<String>) throws {
        try sessions.withTransaction { try Self.replaceDemotions($0, demoted, logger: sessions.queryLogger) }
    }

    private static func replaceDemotions(_ connection: PostgresConnection, _ demoted: Set<String>, logger: Logger) throws {
        try connection.run("DELETE FROM rule_demotions", logger: logger)
        for rule in demoted { try connection.run("INSERT INTO rule_demotions(rule) VALUES (\(rule))", logger: logger) }
    }

    func ruleConfirmations() throws -> [String: Date] {
        try sessions.withConnection { try Self.confirmations($0, logger: sessions.queryLogger) }
    }

    private static func confirmations(_ connection: PostgresConnection, logger: Logger) throws -> [String: Date] {
        var confirmed: [String: Date] = [:]
        for row in try connection.run("SELECT rule, at FROM rule_confirmations", logger: logger) {
            let (rule, at) = try row.decode((String, Double).self)
            confirmed[rule] = Date(timeIntervalSince1970: at)
        }
        return confirmed
    }

    /// `warden confirm RULE` against the shared ledger.
    func confirmRule(_ rule: String, at date: Date = Date()) throws {
        try sessions.withConnection { connection in
            try connection.run("""
                INSERT INTO rule_confirmations(rule, at) VALUES (\(rule), \(date.timeIntervalSince1970))
                ON CONFLICT (rule) DO UPDATE SET at = excluded.at
                """, logger: sessions.queryLogger)
        }
    }
}
