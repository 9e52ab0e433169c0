import Foundation

/// Replays posts in order through one rule set with an in-memory history and strike count,
/// so that `warden diff --simulate` shows the whole effect of a change, repeat-offender
/// escalation included, not only which patterns match.
public final class Replay {
    public let judge: Judge
    private let history = InMemoryHistory()
    private var strikes: [String: [(guideline: String, time: Date)]] = [:]
    private var escalated: [String: Action] = [:]
    private let simulate: Bool

    public init(ruleSet: RuleSet, organisation: Organisation = Organisation(), simulate: Bool) {
        self.judge = Judge(ruleSet: ruleSet, organisation: organisation)
        self.simulate = simulate
    }

    /// Judges `post` at `time`; with simulation, it also counts strikes and applies escalation
    /// the way the daemon does (held or blocked authors have every later post held or deleted).
    public func judge(_ post: Post, at time: Date) -> Decision {
        guard simulate else { return judge.judge(post, now: time) }
        var decision = judge.judge(post, history: history, now: time)
        history.record(author: post.authorID, textDigest: decision.textDigest, at: time)
        let policy = judge.ruleSet.escalation
        for guideline in decision.strikeGuidelines { strikes[post.authorID, default: []].append((guideline, time)) }
        let counted = strikes[post.authorID, default: []].filter {
            policy.counted.contains($0.guideline) && time.timeIntervalSince($0.time) <= policy.window
        }.count
        decision.authorStrikes = counted
        if let previous = escalated[post.authorID] {
            decision.escalation = previous
            let floor: Action = previous == .blockAuthor ? .delete : .hold
            if decision.action < floor { decision.action = floor }
        }
        if let escalation = policy.escalation(forStrikes: counted), escalation > (escalated[post.authorID] ?? .allow) {
            escalated[post.authorID] = escalation
            decision.escalation = escalation
        }
        return decision
    }
}
