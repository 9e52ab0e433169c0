import Foundation

/// Replays posts in order through one rule set with an in-memory history and strike count,
/// so that `warden diff --simulate` shows the whole effect of a change, repeat-offender
/// escalation included, not only which patterns match.
///
/// Escalation is decided by `AuthorStanding`, the same code the daemon's `AuthorBook` runs,
/// so a simulated decision is the one the daemon would write.
public final class Replay {
    public let judge: Judge
    private let history = InMemoryHistory()
    private var standings: [String: AuthorStanding] = [:]
    private let simulate: Bool

    public init(ruleSet: RuleSet, organisation: Organisation = Organisation(), simulate: Bool) {
        self.judge = Judge(ruleSet: ruleSet, organisation: organisation)
        self.simulate = simulate
    }

    /// Judges `post` at `time`; with simulation, it also counts strikes and applies escalation
    /// the way the daemon does (held or blocked authors have every later post held or deleted,
    /// from the post that crosses the threshold on).
    public func judge(_ post: Post, at time: Date) -> Decision {
        guard simulate else { return judge.judge(post, now: time) }
        var decision = judge.judge(post, history: history, now: time)
        history.record(author: post.authorID, textDigest: decision.textDigest, at: time)
        // An edit (a post id seen before) replaces the earlier version's strikes, as in the daemon.
        standings[post.authorID]?.forget(postID: post.id)
        standings[post.authorID, default: AuthorStanding()].record(&decision, postID: post.id, at: time,
                                                                    policy: judge.ruleSet.escalation)
        return decision
    }

    /// Applies a moderator's pardon to the simulated strikes, as the daemon would.
    public func apply(_ pardon: Pardon) {
        standings[pardon.author]?.apply(pardon)
    }
}
