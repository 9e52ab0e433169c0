import Foundation

/// What the judge may ask about an author's past posts, for `repeat_post` and `flood`.
///
/// The daemon answers from its SQLite ledger; tests, examples and `warden diff --simulate`
/// use `InMemoryHistory`. Counts never include the post being judged.
public protocol AuthorHistory {
    /// Posts by `author` in the `within` seconds before `now`.
    func postCount(author: String, within: TimeInterval, now: Date) -> Int
    /// Posts by `author` with the same normalised text in the `within` seconds before `now`.
    func sameTextCount(author: String, textDigest: UInt64, within: TimeInterval, now: Date) -> Int
}

/// The one definition of "within the last `within` seconds before `now`" for author history,
/// shared by the daemon's memory and `InMemoryHistory`: a post exactly `within` old is out,
/// as a strike exactly one window old is (`EscalationPolicy.counts`).
public enum HistoryWindow {
    @inline(__always)
    public static func contains(_ time: Date, within: TimeInterval, now: Date) -> Bool {
        time > now.addingTimeInterval(-within) && time <= now
    }
}

/// No history at all: every author is posting for the first time.
public struct NoHistory: AuthorHistory {
    public init() {}
    public func postCount(author: String, within: TimeInterval, now: Date) -> Int { 0 }
    public func sameTextCount(author: String, textDigest: UInt64, within: TimeInterval, now: Date) -> Int { 0 }
}

/// History kept in memory, for replaying posts in order (examples, `diff --simulate`, tests).
public final class InMemoryHistory: AuthorHistory {
    private struct Entry {
        var time: Date
        var digest: UInt64
    }

    private var posts: [String: [Entry]] = [:]

    public init() {}

    /// Records that `author` posted text with `textDigest` at `time`.
    public func record(author: String, textDigest: UInt64, at time: Date) {
        posts[author, default: []].append(Entry(time: time, digest: textDigest))
    }

    public func postCount(author: String, within: TimeInterval, now: Date) -> Int {
        posts[author]?.reduce(0) { $0 + (HistoryWindow.contains($1.time, within: within, now: now) ? 1 : 0) } ?? 0
    }

    public func sameTextCount(author: String, textDigest: UInt64, within: TimeInterval, now: Date) -> Int {
        posts[author]?.reduce(0) {
            $0 + ($1.digest == textDigest && HistoryWindow.contains($1.time, within: within, now: now) ? 1 : 0)
        } ?? 0
    }
}
