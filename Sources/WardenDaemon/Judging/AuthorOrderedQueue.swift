import DequeModule
import Foundation
import WardenCore

/// A work queue that keeps each author's posts in order while letting any idle worker take
/// any other author's post.
///
/// Authors are hashed into many more shards than there are workers (256 by default). A
/// shard is taken by one worker at a time, for one job, then handed back; jobs of one shard
/// run in the order they were queued. Strike counts therefore see an author's posts in
/// order, and a pathological post holds up only the few authors of its own shard: with
/// fixed "one queue per worker" sharding it would stall a whole worker's share of authors.
///
/// The shard's `AuthorBook` travels with the shard: whoever holds the shard may touch its
/// book, and the lock hand-over orders those touches. That invariant is what makes the
/// `@unchecked Sendable` sound.
final class AuthorOrderedQueue<Job: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queues: [Deque<Job>]
    private var busy: [Bool]
    private var ready = Deque<Int>()
    private var closed = false
    private(set) var count = 0
    let books: [AuthorBook]

    init(shards: Int = 256) {
        queues = Array(repeating: Deque<Job>(), count: shards)
        busy = Array(repeating: false, count: shards)
        books = (0..<shards).map { _ in AuthorBook() }
    }

    var shardCount: Int { queues.count }

    /// The shard of an author: FNV-1a of the id, stable across runs (unlike `hashValue`),
    /// so the order argument does not depend on the process's hash seed.
    func shard(of author: String) -> Int {
        Int(FNV1a.hash(author.utf8) % UInt64(queues.count))
    }

    func push(_ job: Job, shard: Int) {
        condition.lock()
        queues[shard].append(job)
        count += 1
        if !busy[shard] && queues[shard].count == 1 { ready.append(shard) }
        condition.signal()
        condition.unlock()
    }

    /// Blocks until a job is available; nil once the queue is closed and drained.
    /// The caller must call `release(shard:)` when done with the job.
    func take() -> (shard: Int, job: Job)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while let shard = ready.popFirst() {
                // A listed shard may be held by `withAllBooks` (listed before it took the
                // shard) or listed twice (its release lists it again): skip it, since whoever
                // holds it lists it again on release if jobs remain. Taking it would let a
                // worker touch the book while the prune walks it (a soak crashed so).
                guard !busy[shard], let job = queues[shard].popFirst() else { continue }
                busy[shard] = true
                count -= 1
                return (shard, job)
            }
            if closed { return nil }
            condition.wait()
        }
    }

    /// The shard's next job if it is queued already and `matches` it, taken by the worker that
    /// holds the shard (between its `take()` and `release(shard:)`); else nil. A shared
    /// ledger judges an author's consecutive posts under one lock this way (`Workers`).
    func takeNext(shard: Int, where matches: (Job) -> Bool) -> Job? {
        condition.lock()
        defer { condition.unlock() }
        precondition(busy[shard], "takeNext(shard:) by a worker that does not hold the shard")
        guard let next = queues[shard].first, matches(next) else { return nil }
        queues[shard].removeFirst()
        count -= 1
        return next
    }

    func release(shard: Int) {
        condition.lock()
        busy[shard] = false
        if !queues[shard].isEmpty {
            ready.append(shard)
            condition.signal()
        }
        condition.unlock()
    }

    /// Runs `body` on every shard's book while no worker holds it (start-up loading, pruning).
    func withAllBooks(_ body: (AuthorBook) -> Void) {
        for index in books.indices {
            condition.lock()
            while busy[index] { condition.unlock(); usleep(100); condition.lock() }
            busy[index] = true
            condition.unlock()
            body(books[index])
            release(shard: index)
        }
    }

    /// Lets workers drain what is queued, then makes `take()` return nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
