import Foundation
import GRDB

/// The shadow guard's state in the ledger: the rules seen (fingerprint and when it last
/// changed), moderators' confirmations (`warden confirm`) and the rules demoted. In the
/// ledger so that it is transactional and an unreadable state is an error, not silence.
extension Ledger {
    struct GuardState {
        var seen: [String: ShadowGuard.Seen]
        var confirmed: [String: Date]
        var demoted: Set<String>
    }

    func shadowGuardState() throws -> GuardState {
        try pool.read { db in
            var seen: [String: ShadowGuard.Seen] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT rule, fingerprint, changed_at FROM rules_seen") {
                seen[row["rule"]] = ShadowGuard.Seen(fingerprint: row["fingerprint"], changedAt: Date(timeIntervalSince1970: row["changed_at"]))
            }
            return GuardState(seen: seen, confirmed: try Self.confirmations(db),
                              demoted: Set(try String.fetchAll(db, sql: "SELECT rule FROM rule_demotions")))
        }
    }

    /// Replaces the rules seen and the demoted rules, in one transaction.
    func saveShadowGuard(seen: [String: ShadowGuard.Seen], demoted: Set<String>) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM rules_seen")
            for (rule, entry) in seen {
                try db.execute(sql: "INSERT INTO rules_seen(rule, fingerprint, changed_at) VALUES (?, ?, ?)",
                               arguments: [rule, entry.fingerprint, entry.changedAt.timeIntervalSince1970])
            }
            try Self.replaceDemotions(db, demoted)
        }
    }

    func saveDemotions(_ demoted: Set<String>) throws {
        try pool.write { db in try Self.replaceDemotions(db, demoted) }
    }

    private static func replaceDemotions(_ db: Database, _ demoted: Set<String>) throws {
        try db.execute(sql: "DELETE FROM rule_demotions")
        for rule in demoted { try db.execute(sql: "INSERT INTO rule_demotions(rule) VALUES (?)", arguments: [rule]) }
    }

    func ruleConfirmations() throws -> [String: Date] {
        try pool.read { db in try Self.confirmations(db) }
    }

    private static func confirmations(_ db: Database) throws -> [String: Date] {
        var confirmed: [String: Date] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT rule, at FROM rule_confirmations") {
            confirmed[row["rule"]] = Date(timeIntervalSince1970: row["at"])
        }
        return confirmed
    }

    /// `warden confirm RULE`: a moderator vouches for a rule as it is now. A running daemon
    /// reads it within half a second.
    public func confirmRule(_ rule: String, at date: Date = Date()) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO rule_confirmations(rule, at) VALUES (?, ?) ON CONFLICT(rule) DO UPDATE SET at = excluded.at",
                           arguments: [rule, date.timeIntervalSince1970])
        }
    }

    /// The rules demoted to shadow mode, sorted, for `warden confirm` without a rule.
    public func demotedRules() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT rule FROM rule_demotions ORDER BY rule") }
    }
}
