import Foundation
import Glibc
import Logging

/// Deletes done/ files older than the configured retention, hourly, on a thread of its
/// own: a first sweep over months of posts may take minutes and must not stall claims.
/// Age is the file's ctime, i.e. when it was renamed into done/.
final class DoneRetention: Sendable {
    private let directory: String
    private let retention: TimeInterval?
    private let logger: Logger
    private let state = Locked<(sweeping: Bool, last: UInt64)>((false, 0))

    init(directory: String, retention: TimeInterval?, logger: Logger) {
        self.directory = directory
        self.retention = retention
        self.logger = logger
    }

    /// Starts a sweep if none ran in the last hour and none is running.
    func sweepIfDue(now: UInt64) {
        guard let retention else { return }
        let start = state.withLock { state -> Bool in
            guard !state.sweeping, state.last == 0 || now - state.last >= 3_600_000_000_000 else { return false }
            state = (true, now)
            return true
        }
        guard start else { return }
        let thread = Thread { [self] in
            defer { state.withLock { $0.sweeping = false } }
            let cutoff = Date().addingTimeInterval(-retention).timeIntervalSince1970
            guard let names = try? POSIX.listDirectory(directory) else { return }
            var removed = 0
            for name in names {
                var info = stat()
                guard lstat(directory + "/" + name, &info) == 0, TimeInterval(info.st_ctim.tv_sec) < cutoff else { continue }
                if unlink(directory + "/" + name) == 0 { removed += 1 }
            }
            if removed > 0 { logger.info("removed old posts from done/", metadata: ["files": "\(removed)", "retention_days": "\(retention / 86_400)"]) }
        }
        thread.name = "warden-retention"
        thread.start()
    }
}
