import DequeModule
import Foundation

/// A FIFO between two threads; `take` blocks, and returns nil once closed and drained.
final class BlockingQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = Deque<Element>()
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
