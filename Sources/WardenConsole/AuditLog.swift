import Foundation
import WardenCore

/// The audit log: every moderator and admin action with its reason and the state before and
/// after, append-only (triggers refuse UPDATE and DELETE on the table).
public enum AuditLog {
    public struct Entry: Sendable, Equatable {
        public var id: Int64
        public var at: Date
        public var moderator: String
        public var item: String
        public var action: String
        public var reason: String
        public var before: String
        public var after: String
    }

    /// Appends one entry inside the caller's transaction (with the change it records).
    static func append(_ db: any ReviewTransaction, at: Date, moderator: String, item: String, action: String, reason: String,
                       before: [String: Any], after: [String: Any]) throws {
        try db.execute("INSERT INTO audit(at, moderator, item, action, reason, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [at.timeIntervalSince1970, moderator, item, action, reason, json(before), json(after)])
    }

    /// Appends one entry in its own transaction (user administration, pardons).
    public static func append(_ store: any ReviewStore, moderator: String, item: String, action: String, reason: String,
                              before: [String: Any] = [:], after: [String: Any] = [:], at: Date = Date()) throws {
        // Encoded before the closure: [String: Any] is not Sendable.
        let beforeJSON = json(before), afterJSON = json(after)
        try store.write { db in
            try db.execute("INSERT INTO audit(at, moderator, item, action, reason, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [at.timeIntervalSince1970, moderator, item, action, reason, beforeJSON, afterJSON])
        }
    }

    /// Newest first; `moderator` and `item` filter when given.
    public static func entries(_ store: any ReviewStore, moderator: String? = nil, item: String? = nil, limit: Int = 200) throws -> [Entry] {
        try store.read { db in
            var sql = "SELECT * FROM audit WHERE TRUE"
            var arguments: [any SQLBindable] = []
            if let moderator, !moderator.isEmpty { sql += " AND moderator = ?"; arguments += [moderator] }
            if let item, !item.isEmpty { sql += " AND item = ?"; arguments += [item] }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments += [limit]
            return try db.rows(sql, arguments).map {
                Entry(id: try $0["id"], at: Date(timeIntervalSince1970: try $0["at"]), moderator: try $0["moderator"], item: try $0["item"],
                      action: try $0["action"], reason: try $0["reason"], before: try $0["before"], after: try $0["after"])
            }
        }
    }

    static func json(_ object: [String: Any]) -> String {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
