import Foundation

/// One daemon instance as the consoles know it: the ruleset digest of the last decision its
/// console indexed, and when that console last read its log. With a shared (PostgreSQL)
/// store every instance's console writes its row, so each console lists the whole group.
public struct InstanceStatus: Sendable, Equatable {
    public var name: String
    /// `sha256:…` of the rules its daemon judged its last indexed post with; nil before any.
    public var ruleset: String?
    /// When its console last read its decisions.jsonl (every poll with new lines, else every
    /// `LogIndexer.heartbeat` seconds): an old time means that console (or host) is down.
    public var lastSeen: Date
    /// The time of the last decision indexed from it.
    public var lastDecidedAt: Date?
}

/// The instances of a group and whether they judge with the same rules.
public enum Instances {
    /// Every instance that has indexed a line or polled, by name.
    public static func list(_ store: any ReviewStore) throws -> [InstanceStatus] {
        try store.read { db in
            try db.rows("SELECT name, ruleset, last_seen, last_decided_at FROM instances ORDER BY name").map { row in
                InstanceStatus(name: try row["name"], ruleset: try row["ruleset"], lastSeen: Date(timeIntervalSince1970: try row["last_seen"]),
                               lastDecidedAt: (try row["last_decided_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    /// An instance whose console has not read its log for this long is left out of the
    /// comparison of rulesets (a host taken out of the group would otherwise be a
    /// disagreement for ever); the Rules page still lists it, with its last-seen time.
    public static let staleAfter: TimeInterval = 24 * 3600

    /// The instances seen within `staleAfter` of `now`.
    public static func current(_ instances: [InstanceStatus], now: Date = Date()) -> [InstanceStatus] {
        instances.filter { now.timeIntervalSince($0.lastSeen) <= staleAfter }
    }

    /// The ruleset most current instances judge with (ties: the one of the most recent
    /// decision), or nil when none has judged yet. An instance with another digest disagrees.
    public static func prevailingRuleset(_ instances: [InstanceStatus], now: Date = Date()) -> String? {
        let counts = Dictionary(grouping: current(instances, now: now).filter { $0.ruleset != nil }, by: { $0.ruleset ?? "" })
        return counts.max { a, b in
            if a.value.count != b.value.count { return a.value.count < b.value.count }
            let latestA = a.value.compactMap(\.lastDecidedAt).max() ?? .distantPast
            let latestB = b.value.compactMap(\.lastDecidedAt).max() ?? .distantPast
            return latestA < latestB
        }?.key
    }

    /// Whether the current instances judge with more than one ruleset.
    public static func disagree(_ instances: [InstanceStatus], now: Date = Date()) -> Bool {
        Set(current(instances, now: now).compactMap(\.ruleset)).count > 1
    }
}
