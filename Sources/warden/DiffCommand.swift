import ArgumentParser
import Foundation
import WardenCore

/// `warden diff --rules NEW [FILE]`: every post whose decision would change under NEW.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Judge past posts with the current rules and with NEW, and show every post whose decision changes.",
        discussion: "Exit status: 0 no change, 1 some decisions change, 2 input error (like diff(1)).")

    @Option(name: .long, help: "The changed rules directory to compare.") var rules: String
    @Option(name: .long, help: "The rules in force (default: ./rules).") var current: String?
    @Argument(help: "JSON Lines file of posts (default: the posts in STATE/done/).") var file: String?
    @Option(name: .long, help: "State directory whose done/ holds past posts.") var state: String = "./var"
    @Flag(name: .long, help: "Replay posts in order with strikes, escalation, repeats and floods.") var simulate = false
    @Option(name: .long, help: "Output format: text or json (one change per line).") var format: OutputFormat = .text

    func run() throws {
        let old = try loadRules(current ?? RulesOptions.defaultRulesDirectory(), runExamples: false)
        let new = try loadRules(rules, runExamples: false)
        let posts = try loadPosts()
        let before = Replay(ruleSet: old, simulate: simulate)
        let after = Replay(ruleSet: new, simulate: simulate)
        let out = Output.standard
        var changed = 0
        var transitions: [String: Int] = [:]
        for (index, post) in posts.enumerated() {
            let time = post.createdAt.flatMap(RFC3339.parse) ?? Date(timeIntervalSince1970: 1_800_000_000 + Double(index))
            let a = before.judge(post, at: time)
            let b = after.judge(post, at: time)
            guard a.action != b.action || a.rules != b.rules || a.escalation != b.escalation else { continue }
            changed += 1
            transitions["\(a.action.rawValue) → \(b.action.rawValue)", default: 0] += 1
            if format == .json {
                var w = JSONWriter()
                w.beginObject()
                w.key("post_id"); w.string(post.id)
                w.key("text"); w.string(post.text)
                for (name, d) in [("before", a), ("after", b)] {
                    w.key(name)
                    w.beginObject()
                    w.key("action"); w.string(d.action.rawValue)
                    w.key("rules"); w.stringArray(d.rules)
                    w.key("escalation")
                    if let e = d.escalation { w.string(e.rawValue) } else { w.null() }
                    w.endObject()
                }
                w.endObject()
                out.write(w.bytes + [0x0A])
            } else {
                let snippet = post.text.replacingOccurrences(of: "\n", with: " ").prefix(100)
                let ea = a.escalation.map { "+\($0.rawValue)" } ?? "", eb = b.escalation.map { "+\($0.rawValue)" } ?? ""
                out.line(
                    "\(post.id): \(a.action.rawValue)\(ea) [\(a.rules.joined(separator: ","))] → \(Style.bold(b.action.rawValue))\(eb) [\(b.rules.joined(separator: ","))]  \(snippet)")
            }
        }
        if format == .text {
            out.line("\(changed) of \(posts.count) decisions change" + (simulate ? " (simulated with strikes and escalation)" : ""))
            for (transition, count) in transitions.sorted(by: { $0.value > $1.value }) { out.line("  \(transition): \(count)") }
        }
        out.flush()
        if changed > 0 { throw ExitStatus.findings }
    }

    private func loadPosts() throws -> [Post] {
        var posts: [Post] = []
        if let file {
            var source = try LineSource(path: file)
            while source.next({ lineNumber, line in
                guard !PostParser.isBlank(line) else { return }
                do throws(PostError) { posts.append(try PostParser.parse(line)) } catch {
                    Output.error("warden diff: \(file):\(lineNumber): \(error.reason); skipped")
                }
            }) {}
            return posts
        }
        let done = state + "/done"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: done) else {
            Output.error("warden diff: no posts given and \(done) cannot be read; give a JSON Lines file or --state")
            throw ExitStatus.inputError
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            guard let data = FileManager.default.contents(atPath: done + "/" + name) else { continue }
            if name.hasSuffix(".jsonl") {
                posts += PostParser.parseLines(Array(data)).compactMap { try? $0.get() }
            } else if name.hasSuffix(".json"), let post = try? PostParser.parse(Array(data)) {
                posts.append(post)
            }
        }
        if simulate {
            // By time, not by the text of `created_at`: "2026-11-22 10:00:00Z" and "…T10:00:00Z" are the same instant.
            let times = posts.map { $0.createdAt.flatMap(RFC3339.parse) ?? .distantPast }
            posts = posts.indices.sorted { (times[$0], $0) < (times[$1], $1) }.map { posts[$0] }
        }
        return posts
    }
}
