import Foundation
import WardenCore

/// Automatic demotion of a new or changed rule that suddenly acts on an abnormal share of
/// posts: a typo in a pattern (say `.*` left in) must not delete a whole page's comments.
///
/// A rule is *recent* if it was added or changed (its matchers, conditions, action or mode)
/// within `recentFor` (24 h) and no moderator has confirmed it since (`warden confirm RULE`).
/// A recent rule that acted on more than `maxShare` (5%) of the last `window` (1,000)
/// judged posts — i.e. on more than 50 of them — is switched to shadow mode: still judged
/// and logged, never enforced. The demotion is kept in state/ across restarts until confirmed.
///
/// Used from the committer thread only (it sees every decision, in order).
public final class ShadowGuard {
    struct Seen: Codable {
        var fingerprint: String
        var changedAt: Date
    }

    let recentFor: TimeInterval
    let window: Int
    let maxShare: Double
    private let seenPath: String
    private let confirmedPath: String
    private let demotedPath: String
    private var seen: [String: Seen] = [:]
    private var confirmed: [String: Date] = [:]
    private(set) var demoted: Set<String> = []
    private var confirmedModified: Date?

    private var ring: [[String]]
    private var ringIndex = 0
    private var counts: [String: Int] = [:]

    init(stateDirectory: String, recentFor: TimeInterval = 86_400, window: Int = 1_000, maxShare: Double = 0.05) {
        self.recentFor = recentFor
        self.window = window
        self.maxShare = maxShare
        seenPath = stateDirectory + "/rules-seen.json"
        confirmedPath = stateDirectory + "/confirmed-rules.json"
        demotedPath = stateDirectory + "/demoted-rules.json"
        ring = Array(repeating: [], count: window)
        seen = Self.read([String: Seen].self, from: seenPath) ?? [:]
        confirmed = Self.read([String: Date].self, from: confirmedPath) ?? [:]
        demoted = Set(Self.read([String].self, from: demotedPath) ?? [])
        confirmedModified = Self.modified(confirmedPath)
    }

    /// What changed in a rules directory, rule by rule: the things that decide what a rule
    /// acts on. Messages and descriptions are left out: rewording a message is not risky.
    static func fingerprint(of rule: Rule) -> String {
        let patterns = rule.allPatterns.map { "\($0.view):\($0.pattern.isCaseless):\($0.pattern.source)" }
        return [rule.action.rawValue, rule.mode.rawValue, patterns.joined(separator: "\u{1}"),
                rule.detectors.map(\.rawValue).joined(separator: ","), "\(rule.conditions)"].joined(separator: "\u{2}")
    }

    /// Records the rules of a newly loaded rule set; returns the demoted rules that still exist.
    func rulesLoaded(_ ruleSet: RuleSet, now: Date = Date()) -> Set<String> {
        var updated: [String: Seen] = [:]
        // The rules found on the very first start are the baseline, not a change: the guard
        // protects against edits, and a page's established profanity rule may well act on
        // more than 5% of posts.
        let baseline = seen.isEmpty
        for rule in ruleSet.rules {
            let fingerprint = Self.fingerprint(of: rule)
            if let previous = seen[rule.id], previous.fingerprint == fingerprint {
                updated[rule.id] = previous
            } else {
                updated[rule.id] = Seen(fingerprint: fingerprint, changedAt: baseline ? .distantPast : now)
                if demoted.contains(rule.id) { demoted.remove(rule.id) }
            }
        }
        seen = updated
        demoted = demoted.filter { updated[$0] != nil }
        Self.write(seen, to: seenPath)
        Self.write(demoted.sorted(), to: demotedPath)
        return demoted
    }

    /// Feeds one judged post's enforced rules; returns rules to demote now (usually none).
    func observe(enforcedRules rules: [String], now: Date = Date()) -> [String] {
        for rule in ring[ringIndex] { counts[rule, default: 0] -= 1 }
        ring[ringIndex] = rules
        ringIndex = (ringIndex + 1) % window
        var newlyDemoted: [String] = []
        let limit = Int(Double(window) * maxShare)
        for rule in rules {
            let count = counts[rule, default: 0] + 1
            counts[rule] = count
            if count > limit, !demoted.contains(rule), isRecent(rule, now: now) {
                demoted.insert(rule)
                newlyDemoted.append(rule)
            }
        }
        if !newlyDemoted.isEmpty { Self.write(demoted.sorted(), to: demotedPath) }
        return newlyDemoted
    }

    func isRecent(_ rule: String, now: Date) -> Bool {
        guard let changed = seen[rule]?.changedAt, now.timeIntervalSince(changed) < recentFor else { return false }
        if let confirmedAt = confirmed[rule], confirmedAt >= changed { return false }
        return true
    }

    func count(of rule: String) -> Int { counts[rule, default: 0] }

    /// Re-reads confirmed-rules.json if `warden confirm` changed it; returns rules whose
    /// demotion a moderator lifted.
    func checkConfirmations() -> [String] {
        let modified = Self.modified(confirmedPath)
        guard modified != confirmedModified else { return [] }
        confirmedModified = modified
        confirmed = Self.read([String: Date].self, from: confirmedPath) ?? [:]
        let lifted = demoted.filter { confirmed[$0] != nil && !isRecent($0, now: Date()) }
        guard !lifted.isEmpty else { return [] }
        demoted.subtract(lifted)
        for rule in lifted { counts[rule] = 0 }
        ring = ring.map { $0.filter { !lifted.contains($0) } }
        Self.write(demoted.sorted(), to: demotedPath)
        return lifted.sorted()
    }

    /// `warden confirm RULE`: a moderator vouches for a rule as it is now.
    public static func confirm(rule: String, stateDirectory: String, at date: Date = Date()) throws {
        let path = stateDirectory + "/confirmed-rules.json"
        var confirmed = read([String: Date].self, from: path) ?? [:]
        confirmed[rule] = date
        guard write(confirmed, to: path) else {
            throw ConfigurationError(file: path, message: "cannot write; run `warden confirm` as the warden user or root")
        }
    }

    public static func demotedRules(stateDirectory: String) -> [String] {
        read([String].self, from: stateDirectory + "/demoted-rules.json") ?? []
    }

    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    private static func read<T: Decodable>(_ type: T.Type, from path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(type, from: data)
    }

    /// Written to a temporary name and renamed, like every other state file.
    @discardableResult
    private static func write<T: Encodable>(_ value: T, to path: String) -> Bool {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(value) else { return false }
        return (try? data.write(to: URL(fileURLWithPath: path), options: .atomic)) != nil
    }
}
