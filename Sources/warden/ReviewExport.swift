import Foundation
import WardenConsole
import WardenDaemon

/// `warden eval --reviews STATE`: the moderators' reviews as labelled posts, written to a
/// temporary JSON Lines file that eval reads like any labelled set.
enum ReviewExport {
    /// From `ledger`'s review store: SQLite under `stateRoot`, or the shared PostgreSQL database.
    static func write(stateRoot: String, ledger: LedgerLocation) throws -> String {
        if ledger == .sqlite, !FileManager.default.fileExists(atPath: stateRoot + "/state/review.sqlite") {
            throw ConsoleError("no reviews at \(stateRoot)/state/review.sqlite; pass --reviews with the state root the console uses")
        }
        let store = try ReviewStores.open(ledger, stateRoot: stateRoot)
        defer { store.close() }
        let lines = try ReviewDesk.labelledPosts(store)
        let path = NSTemporaryDirectory() + "/warden-reviews-\(getpid()).jsonl"
        var bytes: [UInt8] = []
        for line in lines { bytes += line + [0x0A] }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw ConsoleError("cannot write \(path)") }
        return path
    }
}
