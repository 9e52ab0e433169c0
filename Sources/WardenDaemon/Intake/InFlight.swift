import Foundation

/// Posts claimed and not yet finished (durable and moved out of processing/), and how many
/// files of the start-up recovery are still to finish.
///
/// The dispatcher adds when it claims, the committer's finishing thread subtracts: the
/// main loop claims no more than `maxInFlight`, and start-up waits here, woken by each
/// finished file rather than polling, until the posts an earlier run left are judged.
final class InFlight: @unchecked Sendable {
    private let condition = NSCondition()
    private var posts = 0
    private var recovering = 0
    private let control: MainLoopControl

    init(control: MainLoopControl) {
        self.control = control
    }

    var current: Int {
        condition.lock()
        defer { condition.unlock() }
        return posts
    }

    func claimed(_ count: Int) {
        condition.lock()
        posts += count
        condition.unlock()
    }

    /// Called by the committer: `released` slots (posts, or files without posts) and
    /// `files` files are finished. Wakes the main loop, which may claim more.
    func finished(released: Int, files: Int) {
        condition.lock()
        posts = max(0, posts - released)
        if recovering > 0 { recovering = max(0, recovering - files) }
        condition.broadcast()
        condition.unlock()
        control.wake()
    }

    func startRecovery(files: Int) {
        condition.lock()
        recovering = files
        condition.unlock()
    }

    /// Blocks until every recovered file is finished or a stop is requested. The timeout
    /// is only there to notice a stop request, which does not signal this condition.
    func waitForRecovery() {
        condition.lock()
        defer { condition.unlock() }
        while recovering > 0 && !control.stopRequested {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.25))
        }
    }
}
