import Foundation
import WardenCore

/// When the shadow guard demotes a rule (`shadow_guard:` in warden.yaml).
public struct ShadowGuardLimits: Sendable, Equatable {
    /// A rule added or changed this recently, and not confirmed since, is watched.
    public var recentFor: TimeInterval = 86_400
    /// Over the last this many judged posts …
    public var window: Int = 1_000
    /// … a watched rule acting on more than this share of them is demoted (0.05: 50 of 1,000).
    public var maxShare: Double = 0.05

    public init(recentFor: TimeInterval = 86_400, window: Int = 1_000, maxShare: Double = 0.05) {
        self.recentFor = recentFor
        self.window = window
        self.maxShare = maxShare
    }
}

/// Automatic demotion of a new or changed rule that suddenly acts on an abnormal share of
/// posts: a typo in a pattern (say `.*` left in) must not delete a whole page's comments.
///
/// A rule is *recent* if it was added or changed (its matchers, conditions, action or mode)
/// within `recentFor` (24 h) and no moderator has confirmed it since (`warden confirm RULE`).
/// A recent rule that acted on more than `maxShare` (5%) of the last `window` (1,000)
/// judged posts — i.e. on more than 50 of them — is switched to shadow mode: still judged
/// and logged, never enforced. The demotion is kept in the ledger across restarts until
/// confirmed; a ledger that cannot be read or written is an error, never "nothing demoted".
///
/// Not thread-safe by itself: the daemon holds it in a lock (`Rulebook`), because it is
/// called from the main thread (start-up), the reload thread, the committer
/// (confirmations) and every worker (each judged post, before its action file).
public final class ShadowGuard: @unchecked Sendable {  // only ever used under the Rulebook's lock
    struct Seen: Codable {
        var fingerprint: String
        var changedAt: Date
    }

    let recentFor: TimeInterval
    let window: Int
    let maxShare: Double
    private let ledger: any LedgerStore
    private var seen: [String: Seen] = [:]
    private var confirmed: [String: Date] = [:]
    private(set) var demoted: Set<String> = []

    private var ring: [[String]]
    private var ringIndex = 0
    private var counts: [String: Int] = [:]

    init(ledger: any LedgerStore, limits: ShadowGuardLimits = ShadowGuardLimits()) throws {
        self.ledger = ledger
        self.recentFor = limits.recentFor
        self.window = max(1, limits.window)
        self.maxShare = limits.maxShare
        ring = Array(repeating: [], count: window)
        let state = try ledger.shadowGuardState()
        seen = state.seen
        confirmed = state.confirmed
        demoted = state.demoted
    }

    /// What changed in a rules directory, rule by rule: the things that decide what a rule
    /// acts on. Messages and descriptions are left out: rewording a message is not risky.
    static func fingerprint(of rule: Rule) -> String {
        let patterns = rule.allPatterns.map { "\($0.view):\($0.pattern.isCaseless):\($0.pattern.source)" }
        return [rule.action.rawValue, rule.mode.rawValue, patterns.joined(separator: "\u{1}"),
                rule.detectors.map(\.rawValue).joined(separator: ","), "\(rule.conditions)"].joined(separator: "\u{2}")
    }

    /// Records the rules of a newly loaded rule set; returns the demoted rules that still exist.
    func rulesLoaded(_ ruleSet: RuleSet, now: Date = Date()) throws -> Set<String> {
        var updated: [String: Seen] = [:]
        // The rules found on the very first start are the baseline, not a change: the guard
        // protects against edits, and a page's established profanity rule may well act on
        // more than 5% of posts.
        let baseline = seen.isEmpty
        var stillDemoted = demoted
        for rule in ruleSet.rules {
            let fingerprint = Self.fingerprint(of: rule)
            if let previous = seen[rule.id], previous.fingerprint == fingerprint {
                updated[rule.id] = previous
            } else {
                updated[rule.id] = Seen(fingerprint: fingerprint, changedAt: baseline ? .distantPast : now)
                stillDemoted.remove(rule.id)
            }
        }
        stillDemoted = stillDemoted.filter { updated[$0] != nil }
        try ledger.saveShadowGuard(seen: updated, demoted: stillDemoted)
        seen = updated
        demoted = stillDemoted
        return demoted
    }

    /// Feeds one judged post's enforced rules; returns rules to demote now (usually none).
    func observe(enforcedRules rules: [String], now: Date = Date()) throws -> [String] {
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
        // Demoted in memory even if the ledger write fails: enforcing a runaway rule is the
        // harm this prevents; the error is reported by the caller.
        if !newlyDemoted.isEmpty { try ledger.saveDemotions(demoted) }
        return newlyDemoted
    }

    func isRecent(_ rule: String, now: Date) -> Bool {
        guard let changed = seen[rule]?.changedAt, now.timeIntervalSince(changed) < recentFor else { return false }
        if let confirmedAt = confirmed[rule], confirmedAt >= changed { return false }
        return true
    }

    func count(of rule: String) -> Int { counts[rule, default: 0] }

    /// Re-reads moderators' confirmations from the ledger (twice a second); returns rules
    /// whose demotion a moderator lifted.
    func checkConfirmations() throws -> [String] {
        let latest = try ledger.ruleConfirmations()
        guard latest != confirmed else { return [] }
        confirmed = latest
        let lifted = demoted.filter { confirmed[$0] != nil && !isRecent($0, now: Date()) }
        guard !lifted.isEmpty else { return [] }
        demoted.subtract(lifted)
        for rule in lifted { counts[rule] = 0 }
        ring = ring.map { $0.filter { !lifted.contains($0) } }
        try ledger.saveDemotions(demoted)
        return lifted.sorted()
    }
}
