import ArgumentParser
import Foundation
import WardenCore

/// `warden diff --new-rules NEW [FILE]`: every post whose decision would change under NEW.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Judge past posts with the current rules and with NEW, and show every post whose decision changes.",
        discussion: "Exit status: 0 no change, 1 some decisions change, 2 usage or input error (including invalid post lines, which are skipped), 3 either rules directory does not validate.")

    @Option(name: .customLong("new-rules"), help: "The changed rules directory to compare with the rules in force.")
    var newRules: String?
    @Option(name: .customLong("rules"), help: ArgumentHelp("Deprecated spelling of --new-rules.", visibility: .hidden))
    var deprecatedRules: String?
    @Option(name: .long, help: "The rules in force (default: the configuration's, ./rules, or the installed ones).") var current: String?
    @Argument(help: "JSON Lines file of posts (default: the posts in STATE/done/).") var file: String?
    @OptionGroup var config: ConfigOptions
    @OptionGroup var stateOptions: StateOptions
    @Flag(name: .long, help: "Replay posts in order with strikes, escalation, repeats and floods.") var simulate = false
    @Option(name: .long, help: "Output format: text or json (one change per line).") var format: OutputFormat = .text

    func validate() throws {
        if newRules != nil && deprecatedRules != nil { throw ValidationError("give --new-rules once (--rules is its old spelling)") }
        if newRules == nil && deprecatedRules == nil { throw ValidationError("missing --new-rules DIR: the changed rules to compare") }
    }

    func run() throws {
        if deprecatedRules != nil {
            Output.error("warden diff: --rules is deprecated here (it means the rules in force everywhere else); use --new-rules")
        }
        let settings = try config.settings()
        let old = try loadRules(RulesLocationOptions.resolve(given: current, local: nil, settings: settings), runExamples: false)
        let new = try loadRules(newRules ?? deprecatedRules ?? "", runExamples: false)
        let state = stateOptions.root(settings: settings)
        let (posts, invalid) = try loadPosts(state: state)
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
        // Like scan: skipped input lines make the comparison incomplete, which outranks "changes".
        if invalid > 0 { throw ExitStatus.inputError }
        if changed > 0 { throw ExitStatus.findings }
    }

    private func loadPosts(state: String) throws -> (posts: [Post], invalid: Int) {
        var posts: [Post] = []
        var invalid = 0
        if let file {
            var source = try LineSource(path: file)
            while source.next({ lineNumber, line in
                guard !PostParser.isBlank(line) else { return }
                do throws(PostError) { posts.append(try PostParser.parse(line)) } catch {
                    invalid += 1
                    Output.error("warden diff: \(file):\(lineNumber): \(error.reason); skipped")
                }
            }) {}
            return (posts, invalid)
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
        return (posts, invalid)
    }
}
