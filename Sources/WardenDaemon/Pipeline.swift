import Foundation

/// A post on its way to a worker.
struct PostJob: Sendable {
    var post: Post
    var fileID: Int
    /// The time the post is judged "at": its `created_at`, else the file's modification
    /// time (never later than now). Using the post's own time rather than the moment it is
    /// read makes windows (flood, repeat_post, strikes) give the same answers when a backlog
    /// is worked off after downtime, and when posts are judged again after a crash.
    var eventTime: Date
    /// When the dispatcher claimed the file, for the end-to-end latency metric.
    var claimedAt: UInt64
}

enum WorkerJob: Sendable {
    case post(PostJob)
    case pardon(Pardon)
}

/// A line of a .jsonl batch file that could not be parsed: it gets its own failed/ entry.
struct RejectedLine: Sendable {
    var line: Int
    var bytes: [UInt8]
    var reason: String
}

/// What the dispatcher and workers hand to the committer, in the order it must happen.
enum Outcome: Sendable {
    /// A file was claimed and parsed into `posts` posts, which follow as `.judged`.
    case claimed(fileID: Int, name: String, posts: Int, rejectedLines: [RejectedLine])
    /// A whole file cannot be judged: it goes to failed/ with the reason.
    case rejected(name: String, rejection: Rejection)
    case judged(JudgedPost)
    case pardon(Pardon)
}

struct JudgedPost: Sendable {
    var fileID: Int
    var decision: Decision
    var change: LedgerChange
    /// The post id was judged before (an edit): a stale action file may have to go.
    var isEdit: Bool
    var claimedAt: UInt64
}

/// A FIFO from many producers to the one committer, handed over in batches.
final class OutcomeQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = RingBuffer<Outcome>()
    private var closed = false

    func push(_ outcome: Outcome) {
        condition.lock()
        items.append(outcome)
        condition.signal()
        condition.unlock()
    }

    /// Whatever is ready, up to `max` items; waits up to `timeout` if nothing is.
    /// Returns nil when closed and drained.
    func takeBatch(max: Int, timeout: TimeInterval) -> [Outcome]? {
        condition.lock()
        defer { condition.unlock() }
        if items.isEmpty && !closed {
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout))
        }
        if items.isEmpty { return closed ? nil : [] }
        var batch: [Outcome] = []
        batch.reserveCapacity(Swift.min(items.count, max))
        while batch.count < max, let item = items.popFirst() { batch.append(item) }
        return batch
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
