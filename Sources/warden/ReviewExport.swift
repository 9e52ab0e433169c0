import Foundation
import WardenConsole

/// `warden eval --reviews STATE`: the moderators' reviews as labelled posts, written to a
/// temporary JSON Lines file that eval reads like any labelled set.
enum ReviewExport {
    static func write(stateRoot: String) throws -> String {
        guard FileManager.default.fileExists(atPath: stateRoot + "/state/review.sqlite") else {
            throw ConsoleError("no reviews at \(stateRoot)/state/review.sqlite; pass --reviews with the state root the console uses")
        }
        let database = try ReviewDatabase.open(stateRoot: stateRoot)
        let lines = try ReviewDesk.labelledPosts(database)
        let path = NSTemporaryDirectory() + "/warden-reviews-\(getpid()).jsonl"
        var bytes: [UInt8] = []
        for line in lines { bytes += line + [0x0A] }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw ConsoleError("cannot write \(path)") }
        return path
    }
}
