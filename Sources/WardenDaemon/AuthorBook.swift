import Foundation
import WardenCore

/// One earlier post of an author, as much as the repeat-offender conditions need.
struct PostTrace: Sendable, Equatable {
    var postID: String
    var at: Date
    var textDigest: UInt64
}

/// What the daemon remembers about one author: recent posts (for `repeat_post` and
/// `flood`), strikes within the strike window, and standing escalations.
struct AuthorRecord: Sendable {
    var posts: [PostTrace] = []
    var strikes: [Strike] = []
    var escalations: [EscalationRecord] = []

    /// At most this many posts are remembered per author. `flood` and `repeat_post` only
    /// need "at least N" answers with small N, and the cap keeps a spammer posting thousands
    /// of times a minute from growing memory without bound.
    static let maxPostTraces = 512

    var isEmpty: Bool { posts.isEmpty && strikes.isEmpty && escalations.isEmpty }

    /// The standing escalation: the strongest one not pardoned.
    var escalation: Action? { escalations.map(\.action).max() }

    func countedStrikes(policy: EscalationPolicy, now: Date) -> Int {
        let since = now.addingTimeInterval(-policy.window)
        return strikes.reduce(0) { count, strike in
            count + (strike.at > since && strike.at <= now && policy.counted.contains(strike.guideline) ? 1 : 0)
        }
    }

    /// Forgets what `postID` wrote, before it is judged again (an edit). Returns whether
    /// there was anything: then the ledger must keep the replaced rows (see `Ledger.undo`).
    @discardableResult
    mutating func forget(postID: String) -> Bool {
        let before = posts.count + strikes.count + escalations.count
        posts.removeAll { $0.postID == postID }
        strikes.removeAll { $0.postID == postID }
        escalations.removeAll { $0.postID == postID }
        return posts.count + strikes.count + escalations.count != before
    }

    mutating func prune(strikesBefore: Date, postsBefore: Date) {
        posts.removeAll { $0.at < postsBefore }
        strikes.removeAll { $0.at < strikesBefore }
    }

    mutating func apply(_ pardon: Pardon) {
        if let guideline = pardon.guideline {
            strikes.removeAll { $0.guideline == guideline }
        } else {
            strikes.removeAll()
        }
        escalations.removeAll()
    }
}

/// The judge's view of one author's past, read from memory. Counts exclude the post being
/// judged (by id), so an edited post does not count itself.
struct RecordedHistory: AuthorHistory {
    var record: AuthorRecord?
    var excluding: String

    func postCount(author: String, within: TimeInterval, now: Date) -> Int {
        guard let record else { return 0 }
        let since = now.addingTimeInterval(-within)
        return record.posts.reduce(0) { $0 + ($1.postID != excluding && $1.at > since && $1.at <= now ? 1 : 0) }
    }

    func sameTextCount(author: String, textDigest: UInt64, within: TimeInterval, now: Date) -> Int {
        guard let record else { return 0 }
        let since = now.addingTimeInterval(-within)
        return record.posts.reduce(0) {
            $0 + ($1.postID != excluding && $1.textDigest == textDigest && $1.at > since && $1.at <= now ? 1 : 0)
        }
    }
}

/// The authors of one shard. Only the worker currently holding the shard touches it (see
/// `AuthorOrderedQueue`), so it needs no lock of its own.
final class AuthorBook {
    var authors: [String: AuthorRecord] = [:]

    /// Records a judged post and applies the escalation policy; returns the ledger change.
    ///
    /// Escalation: after this post's strikes are recorded, the author's strikes within the
    /// policy window for counted guidelines give a level (the highest threshold reached).
    /// A level above the standing one becomes the standing escalation, and it stays until
    /// `warden pardon` even after the strikes age out. Every post of an escalated author is
    /// acted on at least as `hold` (hold_author) or `delete` (block_author), including the
    /// post that crossed the threshold.
    /// `historyWindow`: how far back the rules look at an author's posts; older traces are
    /// dropped here, so memory follows the rules (nothing is kept if no rule needs history).
    func record(_ decision: inout Decision, post: Post, at: Date, policy: EscalationPolicy,
                historyWindow: TimeInterval = 86_400) -> LedgerChange {
        var record = authors[post.authorID] ?? AuthorRecord()
        let replaces = record.forget(postID: post.id)
        let oldest = at.addingTimeInterval(-historyWindow)
        if let keep = record.posts.firstIndex(where: { $0.at >= oldest }) {
            if keep > 0 { record.posts.removeFirst(keep) }
        } else {
            record.posts.removeAll()
        }
        if historyWindow > 0 {
            record.posts.append(PostTrace(postID: post.id, at: at, textDigest: decision.textDigest))
        }
        if record.posts.count > AuthorRecord.maxPostTraces {
            record.posts.removeFirst(record.posts.count - AuthorRecord.maxPostTraces)
        }
        for guideline in decision.strikeGuidelines {
            record.strikes.append(Strike(postID: post.id, guideline: guideline, at: at))
        }
        let strikes = record.countedStrikes(policy: policy, now: at)
        var newEscalation: Action?
        if !decision.strikeGuidelines.isEmpty, let level = policy.escalation(forStrikes: strikes),
           level > (record.escalation ?? .allow) {
            record.escalations.append(EscalationRecord(postID: post.id, action: level, at: at))
            newEscalation = level
        }
        decision.authorStrikes = strikes
        if let escalation = record.escalation {
            decision.escalation = escalation
            decision.action = max(decision.action, Self.floor(for: escalation))
        }
        authors[post.authorID] = record.isEmpty ? nil : record
        return LedgerChange(postID: post.id, author: post.authorID, at: at, textDigest: decision.textDigest,
                            strikeGuidelines: decision.strikeGuidelines, escalation: newEscalation, replaces: replaces)
    }

    /// The mildest post action for an escalated author.
    static func floor(for escalation: Action) -> Action {
        escalation >= .blockAuthor ? .delete : .hold
    }

    func history(for post: Post) -> RecordedHistory {
        RecordedHistory(record: authors[post.authorID], excluding: post.id)
    }

    func apply(_ pardon: Pardon) {
        authors[pardon.author]?.apply(pardon)
    }

    func prune(strikesBefore: Date, postsBefore: Date) {
        for (author, var record) in authors {
            record.prune(strikesBefore: strikesBefore, postsBefore: postsBefore)
            authors[author] = record.isEmpty ? nil : record
        }
    }
}
