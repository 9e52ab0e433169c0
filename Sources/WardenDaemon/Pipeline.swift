import Foundation
import WardenCore

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
    /// The action file's temporary name in outbox/, unique per judgement (an edit may be in
    /// the same batch as the original), and whether the worker already wrote it there.
    var temporaryName: String? = nil
    var temporaryWritten = false
}

/// A FIFO from many producers to the one committer, handed over in batches.
///
/// Every outcome gets a sequence number when pushed, and batches are taken in order, so
/// "the committer has committed the batch ending at sequence S" means every outcome pushed
/// with a number up to S is in the ledger: that is what lets an `AuthorBook` drop an author
/// from memory and read them back from the ledger without missing a change.
final class OutcomeQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = RingBuffer<Outcome>()
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

/// Parses a post's `created_at` (RFC 3339: `2026-11-22T10:00:00Z`, fractions and offsets
/// allowed). Hand-written because `ISO8601DateFormatter` is not Sendable and costs
/// microseconds per call on the claim path; nil for anything else, and the file's
/// modification time is used instead.
enum PostTime {
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from..<(from + count) {
                let byte = bytes[index]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45, let day = number(8, 2),
              bytes[10] == 84 || bytes[10] == 116 || bytes[10] == 32,
              let hour = number(11, 2), bytes[13] == 58, let minute = number(14, 2), bytes[16] == 58, let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count && bytes[index] == 46 {
            index += 1
            var scale = 0.1
            while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offset = 0
        if index < bytes.count {
            switch bytes[index] {
            case 90, 122: index += 1
            case 43, 45:
                guard index + 6 == bytes.count, let hours = number(index + 1, 2), bytes[index + 3] == 58,
                      let minutes = number(index + 4, 2) else { return nil }
                offset = (hours * 3600 + minutes * 60) * (bytes[index] == 45 ? -1 : 1)
                index += 6
            default: return nil
            }
        }
        guard index == bytes.count else { return nil }
        // Days since the epoch (civil-from-days inverse, Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds) + fraction)
    }
}

/// A FIFO between two threads; `take` blocks, and returns nil once closed and drained.
final class BlockingQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = RingBuffer<Element>()
    private var closed = false

    func push(_ element: Element) {
        condition.lock()
        items.append(element)
        condition.signal()
        condition.unlock()
    }

    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let item = items.popFirst() { return item }
            if closed { return nil }
            condition.wait()
        }
    }

    enum Taken {
        case item(Element)
        case timedOut
        case closed
    }

    /// Like `take`, but gives up after `timeout` seconds (nil: waits as long as it takes).
    func take(timeout: TimeInterval?) -> Taken {
        guard let timeout else { return take().map { .item($0) } ?? .closed }
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let item = items.popFirst() { return .item(item) }
            if closed { return .closed }
            if !condition.wait(until: deadline) { return items.popFirst().map { .item($0) } ?? (closed ? .closed : .timedOut) }
        }
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
