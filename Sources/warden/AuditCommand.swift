import ArgumentParser
import Foundation
import WardenConsole
import WardenCore

/// `warden audit`: the review console's audit log (every moderator and admin action).
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print the review console's audit log, newest first.")

    @OptionGroup var storeOptions: ReviewStoreOptions
    @Option(name: .long, help: "Only this moderator's actions.") var moderator: String?
    @Option(name: .long, help: "Only actions on this item (post id, appeal id, author:ID, user:NAME).") var item: String?
    @Option(name: .long, help: "At most this many entries.") var limit: Int = 100
    @Option(name: .long, help: "Output format: text or json.") var format: OutputFormat = .text

    func run() throws {
        let store = try storeOptions.open()
        defer { store.close() }
        let entries = try AuditLog.entries(store, moderator: moderator, item: item, limit: limit)
        for entry in entries {
            if format == .json {
                var w = JSONWriter()
                w.beginObject()
                w.key("id"); w.int(Int(entry.id))
                w.key("at"); w.string(RFC3339.format(entry.at))
                w.key("moderator"); w.string(entry.moderator)
                w.key("item"); w.string(entry.item)
                w.key("action"); w.string(entry.action)
                w.key("reason"); w.string(entry.reason)
                w.key("before"); w.string(entry.before)
                w.key("after"); w.string(entry.after)
                w.endObject()
                print(String(decoding: w.bytes, as: UTF8.self))
            } else {
                print("\(entry.id)\t\(RFC3339.format(entry.at))\t\(entry.moderator)\t\(entry.action)\t\(entry.item)\t\(entry.reason)\t\(entry.before) -> \(entry.after)")
            }
        }
    }
}
