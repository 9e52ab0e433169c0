import Foundation

/// The strike policy from `escalation.yaml`.
public struct EscalationPolicy: Sendable {
    /// Strikes older than this no longer count, in seconds.
    public var window: TimeInterval
    /// Guidelines whose strikes count.
    public var counted: Set<String>
    /// Ascending by strikes; the highest reached applies.
    public var thresholds: [Threshold]

    public struct Threshold: Sendable, Equatable {
        public var strikes: Int
        public var action: Action

        public init(strikes: Int, action: Action) {
            self.strikes = strikes
            self.action = action
        }
    }

    public init(window: TimeInterval = 30 * 86_400, counted: Set<String> = [], thresholds: [Threshold] = []) {
        self.window = window
        self.counted = counted
        self.thresholds = thresholds
    }

    /// The escalation for an author with `strikes` counted strikes, if any.
    public func escalation(forStrikes strikes: Int) -> Action? {
        thresholds.last { strikes >= $0.strikes }?.action
    }

    /// Whether a strike at `strike` still counts at `now`: younger than the window, and not
    /// in the future. The one place the window's boundary is decided (a strike exactly one
    /// window old no longer counts), for the daemon, `diff --simulate` and the ledger's reads.
    public func counts(strikeAt strike: Date, now: Date) -> Bool {
        strike > now.addingTimeInterval(-window) && strike <= now
    }

    /// The mildest post action for an author under `escalation`: every post of a held
    /// author is held, every post of a blocked author deleted.
    public static func floor(for escalation: Action) -> Action {
        escalation >= .blockAuthor ? .delete : .hold
    }
}

/// One strike: an author broke a guideline that counts (`strikes: true`) in one post.
/// Keyed by post id and guideline, so re-judging a post (an edit, or recovery after a
/// crash) replaces its strikes instead of adding to them.
public struct Strike: Sendable, Equatable {
    public var postID: String
    public var guideline: String
    public var at: Date

    public init(postID: String, guideline: String, at: Date) {
        self.postID = postID
        self.guideline = guideline
        self.at = at
    }
}

/// An author-level escalation (hold_author, block_author), remembered with the post that
/// crossed the threshold so that undoing that post (crash recovery) undoes the escalation.
public struct EscalationRecord: Sendable, Equatable {
    public var postID: String
    public var action: Action
    public var at: Date

    public init(postID: String, action: Action, at: Date) {
        self.postID = postID
        self.action = action
        self.at = at
    }
}

/// A moderator's pardon, written by `warden pardon` into the ledger; the running daemon
/// notices it (SQLite `data_version`) and forgets the pardoned strikes in memory too.
public struct Pardon: Sendable, Equatable {
    public var id: Int64
    public var author: String
    /// One guideline's strikes, or nil for all of them.
    public var guideline: String?
    public var at: Date
    /// Who pardoned and why (`warden pardon --by --reason`, the review console).
    public var moderator: String?
    public var reason: String?
    /// Set for a review console take-back: only this post's strikes (and escalation) are forgiven.
    public var postID: String?
    /// Set for a moderator's escalation by hand: not a pardon, but it travels the same way
    /// (a ledger row the running daemon already polls for).
    public var escalation: Action?

    public init(id: Int64, author: String, guideline: String?, at: Date, moderator: String? = nil, reason: String? = nil,
                postID: String? = nil, escalation: Action? = nil) {
        self.id = id
        self.author = author
        self.guideline = guideline
        self.at = at
        self.moderator = moderator
        self.reason = reason
        self.postID = postID
        self.escalation = escalation
    }

    /// The post id an escalation by hand is recorded under, so that it is lifted like any other.
    public static func manualEscalationID(_ pardonID: Int64) -> String { "manual-escalation-\(pardonID)" }
}

/// One author's strikes and standing escalations, and the escalation policy applied to them.
///
/// The only implementation of escalation: the daemon keeps one per author in memory (its
/// `AuthorBook`, backed by the ledger) and `warden diff --simulate` one per author in its
/// `Replay`, so a preview never disagrees with what the daemon does.
public struct AuthorStanding: Sendable, Equatable {
    public var strikes: [Strike] = []
    public var escalations: [EscalationRecord] = []

    public init(strikes: [Strike] = [], escalations: [EscalationRecord] = []) {
        self.strikes = strikes
        self.escalations = escalations
    }

    public var isEmpty: Bool { strikes.isEmpty && escalations.isEmpty }

    /// The standing escalation: the strongest one not pardoned. It stays until a pardon,
    /// even after the strikes that caused it age out of the window.
    public var escalation: Action? { escalations.map(\.action).max() }

    /// Strikes for counted guidelines within the policy window at `now`.
    public func countedStrikes(policy: EscalationPolicy, now: Date) -> Int {
        strikes.reduce(0) { count, strike in
            count + (policy.counted.contains(strike.guideline) && policy.counts(strikeAt: strike.at, now: now) ? 1 : 0)
        }
    }

    /// Records the strikes of a judged post and applies the policy to its decision; returns
    /// the escalation this post started, if it crossed a threshold.
    ///
    /// After the post's strikes are recorded, the counted strikes give a level (the highest
    /// threshold reached). A level above the standing one becomes the standing escalation.
    /// Every post of an escalated author is acted on at least as `hold` (hold_author) or
    /// `delete` (block_author), the post that crossed the threshold included.
    @discardableResult
    public mutating func record(_ decision: inout Decision, postID: String, at: Date, policy: EscalationPolicy) -> Action? {
        for guideline in decision.strikeGuidelines {
            strikes.append(Strike(postID: postID, guideline: guideline, at: at))
        }
        let counted = countedStrikes(policy: policy, now: at)
        var started: Action?
        if !decision.strikeGuidelines.isEmpty, let level = policy.escalation(forStrikes: counted),
           level > (escalation ?? .allow) {
            escalations.append(EscalationRecord(postID: postID, action: level, at: at))
            started = level
        }
        decision.authorStrikes = counted
        if let escalation {
            decision.escalation = escalation
            decision.action = max(decision.action, EscalationPolicy.floor(for: escalation))
        }
        return started
    }

    /// Forgets what `postID` contributed, before it is judged again (an edit). Returns
    /// whether there was anything.
    @discardableResult
    public mutating func forget(postID: String) -> Bool {
        let before = strikes.count + escalations.count
        strikes.removeAll { $0.postID == postID }
        escalations.removeAll { $0.postID == postID }
        return strikes.count + escalations.count != before
    }

    /// Strikes older than `before` can never count again.
    public mutating func prune(strikesBefore before: Date) {
        strikes.removeAll { $0.at < before }
    }

    /// A pardon forgives the strikes it names (all when it names no guideline) and lifts
    /// every escalation; a take-back forgives one post's strikes and escalation only; an
    /// escalation by hand adds a standing escalation.
    public mutating func apply(_ pardon: Pardon) {
        if let escalation = pardon.escalation {
            escalations.append(EscalationRecord(postID: Pardon.manualEscalationID(pardon.id), action: escalation, at: pardon.at))
            return
        }
        if let postID = pardon.postID {
            forget(postID: postID)
            return
        }
        if let guideline = pardon.guideline {
            strikes.removeAll { $0.guideline == guideline }
        } else {
            strikes.removeAll()
        }
        escalations.removeAll()
    }
}
