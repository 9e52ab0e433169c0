import Foundation
import Testing

/// Runs the real `warden` binary, as a moderator or a script would.
struct WardenProcess {
    static var repositoryRoot: String { WardenBinary.repositoryRoot }
    static var binary: String { WardenBinary.path }

    static let fixtureRules = repositoryRoot + "/Tests/Fixtures/rules-basic"

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `warden ARGS` with `input` on stdin and waits for it.
    static func run(_ arguments: [String], input: String = "", currentDirectory: String? = nil, environment extra: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment.merge(extra) { $1 }
        process.environment = environment
        // Files rather than pipes: no deadlock whatever the sizes of input and output.
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try Data(input.utf8).write(to: URL(fileURLWithPath: scratch + "/stdin"))
        _ = FileManager.default.createFile(atPath: scratch + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch + "/stderr", contents: nil)
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: scratch + "/stdin"))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/stderr"))
        try process.run()
        process.waitUntilExit()
        let out = try Data(contentsOf: URL(fileURLWithPath: scratch + "/stdout"))
        let errOutput = try Data(contentsOf: URL(fileURLWithPath: scratch + "/stderr"))
        return Result(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: errOutput, as: UTF8.self))
    }

    /// A temporary directory removed when the test ends.
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

@Suite("warden command line")
struct CLITests {
    let rules = ["--rules", WardenProcess.fixtureRules]

    @Test func checkAcceptsValidRules() throws {
        let result = try WardenProcess.run(["check", WardenProcess.fixtureRules])
        #expect(result.status == 0)
        #expect(result.stdout.contains("ok: 2 guidelines, 4 rules"))
        #expect(result.stdout.contains("sha256:"))
    }

    @Test func checkNamesFileLineAndColumnAndExitsThree() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "guideline: spam\ntitle: T\ntext: t\nrules:\n  - id: s.a\n    patterns: ['(unclosed']\n    action: hide\n"
            .write(toFile: dir + "/spam.yaml", atomically: true, encoding: .utf8)
        let result = try WardenProcess.run(["check", dir])
        #expect(result.status == 3, "invalid rules exit 3, apart from diff's and test's findings (1)")
        #expect(result.stderr.contains("spam.yaml:6:26: error: pattern does not compile"))
    }

    @Test func checkOnAMissingDirectoryIsAnInputError() throws {
        let result = try WardenProcess.run(["check", "/nonexistent/rules"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("rules directory not found"))
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try WardenProcess.run(["scan", "--no-such-flag"]).status == 2)
        #expect(try WardenProcess.run(["frobnicate"]).status == 2)
    }

    @Test func testReportsTheFailingExampleAndWhatMatched() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            guideline: spam
            title: T
            text: t
            rules:
              - id: spam.win
                words: [winner]
                action: hide
                examples:
                  match: ["you are a winner"]
                  no_match: ["every winner gets a prize"]
            """.write(toFile: dir + "/spam.yaml", atomically: true, encoding: .utf8)
        let result = try WardenProcess.run(["test", dir])
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAIL spam.yaml:10:"))
        #expect(result.stdout.contains("rule spam.win should not match \"every winner gets a prize\" but did (matched \"winner\")"))
        #expect(result.stdout.contains("1 of 2 examples pass"))
    }

    @Test func scanPrintsOneDecisionPerLineAndSkipsBadLines() throws {
        let input = """
            {"id":"p1","author":{"id":"u1","name":"Gemma"},"text":"what the f.u.c.k"}
            {"id":"p2","author":{"id":"u2"},"text":"lovely weather"}
            this is not json
            {"id":"../escape","author":{"id":"u3"},"text":"hi"}
            {"id":"p3","author":{"id":"u3"},"text":"check out my channel"}

            """
        let result = try WardenProcess.run(["scan"] + rules, input: input)
        #expect(result.status == 2)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let decisions = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(decisions.map { $0["post_id"] as? String } == ["p1", "p2", "p3"])
        #expect(decisions.map { $0["action"] as? String } == ["delete", "allow", "hide"])
        #expect(decisions[0]["redacted_text"] as? String == "what the *******")
        #expect(result.stderr.contains("line 3: a post must be a JSON object"))
        #expect(result.stderr.contains("line 4: \"id\" must be"))
    }

    @Test func explainHighlightsTheMatchedSpans() throws {
        let result = try WardenProcess.run(["explain"] + rules + ["my cocktail was sh1t"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("decision: delete"))
        #expect(result.stdout.contains("profanity.strong → delete: matched"))
        #expect(result.stdout.contains("16..<20: …my cocktail was [sh1t]…"))
        #expect(result.stdout.contains("redacted: my cocktail was ****"))
    }

    @Test func explainJSONIsTheActionFile() throws {
        let result = try WardenProcess.run(["explain", "--format", "json"] + rules + ["subscribe to me"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["action"] as? String == "hide")
        #expect(object["rules"] as? [String] == ["spam.channel"])
    }

    @Test func evalReportsPrecisionAndRecallPerGuideline() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let labelled = """
            {"id": "1", "text": "fuck this", "labels": ["profanity"]}
            {"id": "2", "text": "lovely", "labels": []}
            {"id": "3", "text": "shit", "labels": ["profanity"]}
            {"id": "4", "text": "darn it", "labels": ["profanity"]}
            {"id": "5", "text": "wanker", "labels": []}
            """
        try labelled.write(toFile: dir + "/set.jsonl", atomically: true, encoding: .utf8)
        let result = try WardenProcess.run(["eval", "--format", "json"] + rules + [dir + "/set.jsonl"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let score = try #require((object["guidelines"] as? [[String: Any]])?.first { $0["label"] as? String == "profanity" })
        #expect(score["tp"] as? Int == 2 && score["fp"] as? Int == 1 && score["fn"] as? Int == 1)
        #expect(abs((score["precision"] as? Double ?? 0) - 0.6667) < 0.001)
    }

    @Test func diffShowsEveryChangedDecision() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: WardenProcess.fixtureRules, toPath: dir + "/new")
        let spam = dir + "/new/spam.yaml"
        let changed = try String(contentsOfFile: spam, encoding: .utf8).replacingOccurrences(of: "action: hide", with: "action: delete")
        try changed.write(toFile: spam, atomically: true, encoding: .utf8)
        try """
            {"id":"a","author":{"id":"u"},"text":"check out my channel"}
            {"id":"b","author":{"id":"u"},"text":"nice day"}
            """.write(toFile: dir + "/posts.jsonl", atomically: true, encoding: .utf8)
        let result = try WardenProcess.run(["diff", "--current", WardenProcess.fixtureRules, "--new-rules", dir + "/new", dir + "/posts.jsonl"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("a: hide [spam.channel] → delete [spam.channel]"))
        #expect(result.stdout.contains("1 of 2 decisions change"))
        let same = try WardenProcess.run(["diff", "--current", WardenProcess.fixtureRules, "--new-rules", WardenProcess.fixtureRules, dir + "/posts.jsonl"])
        #expect(same.status == 0)
        // The old spelling still works, with a note.
        let old = try WardenProcess.run(["diff", "--current", WardenProcess.fixtureRules, "--rules", dir + "/new", dir + "/posts.jsonl"])
        #expect(old.status == 1)
        #expect(old.stderr.contains("--rules is deprecated here"))
        #expect(old.stdout.contains("1 of 2 decisions change"))
    }

    @Test func guidelinesArePublishedFromTheRules() throws {
        let result = try WardenProcess.run(["guidelines", WardenProcess.fixtureRules])
        #expect(result.status == 0)
        #expect(result.stdout.contains("## No profanity"))
        #expect(result.stdout.contains("Keep it clean."))
        #expect(result.stdout.contains("the comment is removed"))
        #expect(result.stdout.contains("After 3, every new comment of yours is held"))
    }
}

@Suite("PCRE2 JIT fallback")
struct JITFallbackTests {
    @Test("with the JIT off, the interpreter gives the same decisions")
    func interpreterGivesTheSameDecisions() throws {
        let input = (0..<50).map { i in
            #"{"id":"p\#(i)","author":{"id":"u\#(i % 7)"},"text":"\#(["f.u.c.k off", "lovely day", "check out my channel", "sh1t service", "cocktail cock", "a classic"][i % 6]) \#(i)"}"#
        }.joined(separator: "\n")
        let rules = ["scan", "--rules", WardenProcess.fixtureRules, "--format", "text"]
        let jit = try WardenProcess.run(rules, input: input)
        let interpreted = try WardenProcess.run(rules, input: input, environment: ["WARDEN_PCRE2_JIT": "0"])
        #expect(jit.status == 0 && interpreted.status == 0)
        #expect(jit.stdout == interpreted.stdout)
        #expect(jit.stdout.contains("delete"))
    }
}

@Suite("Literal gate")
struct LiteralGateTests {
    @Test("gating patterns on their leading literals never changes a decision")
    func gatedEqualsUngated() throws {
        let texts = ["f.u.c.k off", "lovely day", "check out my channel", "CHECK OUT MY CHANNEL", "sh1t service", "cocktail cock",
                     "a classic", "subscribe to my page", "f*** this", "see www.a.example/x http://b.example bit.ly/c", "Fuuuuck", "asssshole"]
        let input = (0..<200).map { i in
            #"{"id":"p\#(i)","author":{"id":"u\#(i % 5)"},"text":"\#(texts[i % texts.count]) \#(texts[(i * 7) % texts.count])"}"#
        }.joined(separator: "\n")
        let arguments = ["scan", "--rules", WardenProcess.fixtureRules, "--format", "text"]
        let gated = try WardenProcess.run(arguments, input: input)
        let ungated = try WardenProcess.run(arguments, input: input, environment: ["WARDEN_PLAN": "ungated"])
        #expect(gated.status == 0)
        #expect(gated.stdout == ungated.stdout)
        #expect(gated.stdout.contains("delete") && gated.stdout.contains("hide"))
    }
}

@Suite("Configuration for moderator commands")
struct ConfigTests {
    @Test("--config names the organisation in messages, as the daemon would")
    func configNamesTheOrganisation() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "organisation:\n  name: Riverside Housing\n  contact: help@riverside.example\n"
            .write(toFile: dir + "/warden.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/rules", withIntermediateDirectories: true)
        try """
            guideline: spam
            title: No spam
            text: t
            rules:
              - id: spam.win
                words: [lottery]
                action: hide
                message: "{{org.name}} asks you to write to {{org.contact}}"
            """.write(toFile: dir + "/rules/spam.yaml", atomically: true, encoding: .utf8)
        let result = try WardenProcess.run(["explain", "--config", dir + "/warden.yaml", "--rules", dir + "/rules", "--format", "json", "lottery"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "Riverside Housing asks you to write to help@riverside.example")
        let overridden = try WardenProcess.run(
            ["explain", "--config", dir + "/warden.yaml", "--org-name", "Acme", "--rules", dir + "/rules", "--format", "json", "lottery"])
        #expect(overridden.stdout.contains("Acme asks you"))
        let missing = try WardenProcess.run(["explain", "--config", dir + "/missing.yaml", "--rules", dir + "/rules", "x"])
        #expect(missing.status == 78, "a missing configuration is EX_CONFIG")
        #expect(missing.stderr.contains("missing.yaml: configuration file not found"))
    }
}
