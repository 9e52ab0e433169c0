import Foundation
import Logging

/// The shared ledger (PostgreSQL) being unreachable, as one event with a start and an end,
/// reported once on every channel ops watch: one log line when the first transaction fails
/// and one when the last party that failed succeeds again (with the duration and the posts
/// that waited), `/healthz` 503 and `warden_ledger_unavailable` 1 in between,
/// `warden_ledger_outages_total` counting them, and STATUS= saying so (`statusSuffix`).
///
/// Parties are the workers (each post's locked transaction) and the committer (its poll
/// for pardons, which notices an outage even when no post flows). The outage ends only
/// when every party that failed during it has succeeded: one worker getting through while
/// another still fails is the same outage, not an end and a new start (the log line per
/// post, or per 20th retry, buried the journal during a database restart).
final class LedgerOutage: Sendable {
    private struct State {
        var failing: Set<String> = []
        var startedAt: UInt64 = 0
        var failures = 0
        /// When the last outage ended (monotonic ns; 0: none yet).
        var endedAt: UInt64 = 0
    }

    private let state = Locked(State())
    private let logger: Logger
    private let metrics: DaemonMetrics
    private let location: String
    /// Posts claimed and not yet finished, read when the outage ends: every one of them
    /// waited for the ledger (posts still in inbox/ past the in-flight limit waited too).
    private let postsInFlight: @Sendable () -> Int

    init(location: String, logger: Logger, metrics: DaemonMetrics, postsInFlight: @escaping @Sendable () -> Int) {
        self.location = location
        self.logger = logger
        self.metrics = metrics
        self.postsInFlight = postsInFlight
        metrics.ledgerUnavailable.set(Double(0))
    }

    /// True from the first failure until every failing party has succeeded.
    var isActive: Bool { state.withLock { !$0.failing.isEmpty } }

    /// For sd_notify STATUS=: empty when the ledger answers.
    var statusSuffix: String {
        isActive ? "; waiting for the shared ledger (unreachable), posts kept in processing/ and inbox/" : ""
    }

    /// A ledger transaction of `party`, begun at `attemptStartedAt` (monotonic ns), failed.
    /// Logs only if this starts an outage. An attempt begun before the last outage ended
    /// belongs to that outage: a statement sent as the server went away can wait out its
    /// 15 s limit after the server is back (seen in SharedLedgerFaultTests), and must not
    /// be reported as a second outage; its retry tells whether the ledger answers now.
    func failed(_ party: String, error: any Error, attemptStartedAt: UInt64 = .max) {
        let started = state.withLock { (state: inout State) -> Bool in
            if state.failing.isEmpty && attemptStartedAt < state.endedAt { return false }
            state.failures += 1
            let starts = state.failing.isEmpty
            if starts {
                state.startedAt = POSIX.monotonicNanoseconds()
                state.failures = 1
                // Under the lock, so that a start and an end racing leave the gauge as the state.
                metrics.ledgerUnavailable.set(Double(1))
            }
            state.failing.insert(party)
            return starts
        }
        guard started else { return }
        metrics.ledgerOutages.increment()
        logger.error("shared ledger unavailable: judging waits, posts stay in processing/ and inbox/ and are retried with back-off; check that PostgreSQL is up and reachable", metadata: [
            "ledger": "\(location)", "error": "\(error)", "party": "\(party)",
        ])
    }

    /// A ledger transaction of `party` succeeded. Logs only if this ends an outage.
    func succeeded(_ party: String) {
        let ended = state.withLock { (state: inout State) -> (seconds: Double, failures: Int)? in
            guard state.failing.remove(party) != nil, state.failing.isEmpty else { return nil }
            state.endedAt = POSIX.monotonicNanoseconds()
            metrics.ledgerUnavailable.set(Double(0))
            return (Double(POSIX.monotonicNanoseconds() - state.startedAt) / 1e9, state.failures)
        }
        guard let ended else { return }
        logger.notice("shared ledger available again; judging resumes", metadata: [
            "ledger": "\(location)", "duration_s": "\(String(format: "%.1f", ended.seconds))",
            "posts_delayed": "\(postsInFlight())", "failed_attempts": "\(ended.failures)",
        ])
    }
}
