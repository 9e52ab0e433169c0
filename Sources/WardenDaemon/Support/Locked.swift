import Synchronization

/// A value shared between threads (work queues, the rules in force, counters), as a class
/// so that several owners hold the same one. A `Synchronization.Mutex` inside: Warden is
/// Linux-only (inotify, syncfs), so nothing holds it to older macOS releases.
public final class Locked<Value>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: sending Value) { mutex = Mutex(value) }

    public func withLock<R, E: Error>(_ body: (inout sending Value) throws(E) -> sending R) throws(E) -> sending R {
        try mutex.withLock(body)
    }
}

extension Locked where Value: Sendable {
    public var current: Value { withLock { $0 } }
}
