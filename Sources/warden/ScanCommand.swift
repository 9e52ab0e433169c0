import ArgumentParser
import Foundation
import WardenCore

/// `warden scan [FILE|-]`: judge JSON Lines posts, one decision per line.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Judge posts given as JSON Lines (a file or stdin) and print one decision per line.",
        discussion: "Invalid lines are reported on stderr with their line number and skipped; the exit status is then 2.")

    @Argument(help: "JSON Lines file of posts, or '-' for stdin (the default).") var file: String?
    @OptionGroup var config: ConfigOptions
    @OptionGroup var rules: RulesLocationOptions
    @OptionGroup var organisation: OrganisationOptions
    @Option(name: .long, help: "Output format: json (one decision per line, the default) or text.") var format: OutputFormat = .json
    @Flag(name: .long, help: "Print only posts that need an action.") var actionsOnly = false
    @Flag(name: .long, help: "At the end, print on stderr the time spent in each rule's patterns, slowest first, and under each the literals that must occur for each of its patterns to run (its gate).") var profile = false

    func run() throws {
        let settings = try config.settings()
        let ruleSet = try loadRules(rules.path(settings: settings), runExamples: false)
        let judge = Judge(ruleSet: ruleSet, organisation: organisation.organisation(settings: settings))
        judge.profiling = profile
        var source = try LineSource(path: file)
        let out = Output.standard
        let limits = PostLimits()
        var posts = 0, invalid = 0, acted = 0
        let started = Date()
        var lastProgress = started
        let showProgress = isatty(2) != 0
        let now = Date()
        // Property-wrapper reads cost a generic-metadata lookup each: read them once.
        let (actionsOnly, format) = (self.actionsOnly, self.format)
        while source.next({ lineNumber, line in
            guard !PostParser.isBlank(line) else { return }
            do throws(PostError) {
                let post = try PostParser.parse(line, limits: limits)
                let decision = judge.judge(post, now: now)
                posts += 1
                if decision.action != .allow { acted += 1 }
                if actionsOnly && decision.action == .allow { return }
                if format == .json {
                    out.write(decision.logLineJSON() + [0x0A])
                } else {
                    out.line("\(decision.postID)\t\(decision.action.rawValue)\t\(decision.rules.joined(separator: ","))")
                }
            } catch {
                invalid += 1
                Output.error("warden scan: line \(lineNumber): \(error.reason); skipped")
            }
        }) {
            if showProgress && posts & 0x3FFF == 0 {
                let time = Date()
                if time.timeIntervalSince(lastProgress) > 0.5 {
                    lastProgress = time
                    let rate = Double(posts) / time.timeIntervalSince(started)
                    FileHandle.standardError.write(Data("\r\(posts) posts, \(Int(rate)) posts/s   ".utf8))
                }
            }
        }
        out.flush()
        let seconds = Date().timeIntervalSince(started)
        if showProgress || seconds > 5 {
            Output.error(
                "\rscanned \(posts) posts in \(String(format: "%.2f", seconds)) s (\(Int(Double(posts) / max(seconds, 1e-9))) posts/s): \(acted) need an action, \(invalid) invalid lines")
        }
        if profile { printProfile(judge, posts: posts) }
        if invalid > 0 { throw ExitStatus.inputError }
    }

    private func printProfile(_ judge: Judge, posts: Int) {
        func micros(_ d: Duration) -> Double { Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12 }
        let perPost = { (d: Duration) in String(format: "%8.2f µs/post", micros(d) / Double(max(posts, 1))) }
        Output.error("combined passes: \(perPost(judge.combinedTime))")
        let ranked = judge.ruleSet.rules.indices.sorted { judge.ruleTime[$0] > judge.ruleTime[$1] }
        for index in ranked.prefix(25) where judge.ruleTime[index] > .zero {
            let rule = judge.ruleSet.rules[index]
            let share = String(format: "%5.1f%%", 100 * Double(judge.ruleRuns[index]) / Double(max(posts, 1)))
            Output.error("\(perPost(judge.ruleTime[index]))  pattern runs per post: \(share)  \(rule.id)  [\(rule.location)]")
            // Why it runs so often (issue 15 item 3): what each of its patterns waits for.
            for pattern in rule.allPatterns {
                Output.error("      gate [\(pattern.location)]: \(judge.ruleSet.gateDescription(of: pattern))")
            }
        }
    }
}
