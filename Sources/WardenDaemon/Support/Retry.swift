import Foundation
import Logging

/// Retries a step that must not be skipped (a ledger read or a durable write) with
/// exponential back-off, 0.1 s up to 5 s, until it succeeds: on a full disk or a read-only
/// remount being fixed, posts wait in processing/ and nothing is dropped.
///
/// The first failure and every 20th are logged with `message`, unless `outage` is set: a
/// shared ledger's failures are one outage with one line at its start and one at its end,
/// however many posts and attempts it spans (`LedgerOutage`). `onRetry` runs before each
/// wait (the committer uses it to keep its heartbeat moving, so a retrying committer is not
/// mistaken for a wedged one until the watchdog's limit).
struct Retry {
    var logger: Logger
    var message: Logger.Message
    var metadata: Logger.Metadata = [:]
    var onRetry: () -> Void = {}
    /// Where failures are reported instead of logged, and as which party (see `LedgerOutage`).
    var outage: LedgerOutage?
    var party = ""

    static func delay(afterAttempt attempt: Int) -> TimeInterval {
        min(5.0, 0.05 * pow(2.0, Double(min(attempt, 7))))
    }

    func untilSuccess<T>(_ body: () throws -> T) -> T {
        untilSuccess { (_: Int) in try body() }
    }

    /// `body` is given the number of earlier failed attempts (0 the first time): a step
    /// whose failure may have been a lost reply to a COMMIT that did happen undoes its own
    /// rows first when retried (`Workers.judgeShared`).
    func untilSuccess<T>(_ body: (_ failedAttempts: Int) throws -> T) -> T {
        var attempt = 0
        while true {
            let attemptStarted = POSIX.monotonicNanoseconds()
            do {
                let value = try body(attempt)
                if let outage {
                    outage.succeeded(party)
                } else if attempt > 0 {
                    logger.notice("succeeded after retrying", metadata: metadata.merging(["attempts": "\(attempt + 1)"]) { $1 })
                }
                return value
            } catch {
                attempt += 1
                let delay = Self.delay(afterAttempt: attempt)
                if let outage {
                    outage.failed(party, error: error, attemptStartedAt: attemptStarted)
                } else if attempt == 1 || attempt % 20 == 0 {
                    logger.error(message, metadata: metadata.merging([
                        "error": "\(error)", "attempt": "\(attempt)", "retry_in_s": "\(delay)",
                    ]) { $1 })
                }
                onRetry()
                Thread.sleep(forTimeInterval: delay)
            }
        }
    }
}
