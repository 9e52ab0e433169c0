import DequeModule
import Foundation
import WardenCore

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
    /// The action file's temporary name in outbox/, unique per judgement (an edit may be in
    /// the same batch as the original), and whether the worker already wrote it there.
    var temporaryName: String? = nil
    var temporaryWritten = false
    /// The worker already wrote `change` to a shared ledger, under the author's lock
    /// (`SharedAuthors`): the committer's ledger step leaves it out.
    var changeWritten = false
}

/// A FIFO from many producers to the one committer, handed over in batches.
///
/// Every outcome gets a sequence number when pushed, and batches are taken in order, so
/// "the committer has committed the batch ending at sequence S" means every outcome pushed
/// with a number up to S is in the ledger: that is what lets an `AuthorBook` drop an author
/// from memory and read them back from the ledger without missing a change.
final class OutcomeQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = Deque<Outcome>()
    private var closed = false
    private var pushed: UInt64 = 0
    private var taken: UInt64 = 0

    /// Returns the outcome's sequence number (from 1, in queue order).
    @discardableResult
    func push(_ outcome: Outcome) -> UInt64 {
        condition.lock()
        items.append(outcome)
        pushed += 1
        let sequence = pushed
        condition.signal()
        condition.unlock()
        return sequence
    }

    /// Whatever is ready, up to `max` items, and the sequence number of the last one; waits
    /// up to `timeout` if nothing is. Returns nil when closed and drained.
    func takeBatch(max: Int, timeout: TimeInterval) -> (outcomes: [Outcome], through: UInt64)? {
        condition.lock()
        defer { condition.unlock() }
        if items.isEmpty && !closed {
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout))
        }
        if items.isEmpty { return closed ? nil : ([], taken) }
        var batch: [Outcome] = []
        batch.reserveCapacity(Swift.min(items.count, max))
        while batch.count < max, let item = items.popFirst() { batch.append(item) }
        taken += UInt64(batch.count)
        return (batch, taken)
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
