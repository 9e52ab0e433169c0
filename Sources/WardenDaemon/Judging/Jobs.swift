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
    /// Left in processing/ by an earlier run: on a shared ledger its rows (if that run
    /// committed them) are undone inside its own locked transaction before it is judged.
    var recovered = false
}

enum WorkerJob: Sendable {
    case post(PostJob)
    case pardon(Pardon)
}
