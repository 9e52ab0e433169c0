import Foundation
import Glibc
import Testing

/// What ops and moderators meet on a server: --version, shipped rules with local
/// overrides, typos that must not succeed, the configuration file, defaults outside a
/// checkout, journald-ready logs, and the exit codes scripts rely on.
@Suite("ops: install, configuration, typos, logs")
struct OpsTests {
    let fixture = WardenProcess.fixtureRules

    private func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    // MARK: #11.1 version

    @Test func versionPrintsTheVersionAndTheCommit() throws {
        let result = try WardenProcess.run(["--version"])
        #expect(result.status == 0)
        // A plain `swift build` is not stamped: the commit reads "unknown" rather than failing.
        let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.range(of: #"^warden \d+\.\d+\.\d+ \(commit (unknown|[0-9a-f]{7,}(-dirty)?)\)$"#, options: .regularExpression) != nil, "\(line)")
    }

    @Test func metricsCarryTheBuild() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start(["--metrics", "127.0.0.1:\(daemon.metricsPort)"])
        var metrics = ""
        _ = daemon.eventually { metrics = daemon.httpGet("/metrics") ?? ""; return metrics.contains("warden_build_info") }
        let version = try WardenProcess.run(["--version"]).stdout
        let commit = version.split(separator: " ").last.map { String($0.dropLast(2)) } ?? "?"
        #expect(metrics.contains("warden_build_info{version=\"\(version.split(separator: " ")[1])\",commit=\"\(commit)\"} 1"), "\(metrics.prefix(2000))")
        #expect(daemon.stop() == 0)
    }

    // MARK: #11.2 shipped rules and local overrides

    /// A shipped directory (the fixture) and a local one with a switch, a replacement and an addition.
    private func overlay() throws -> (dir: String, path: String) {
        let dir = try WardenProcess.temporaryDirectory()
        try FileManager.default.copyItem(atPath: fixture, toPath: dir + "/shipped")
        try write("""
            guideline: spam
            rules:
              - id: spam.channel
                mode: shadow
              - id: spam.links
                mode: "off"
              - id: spam.repeat
                patterns: ['\\bbuy cheap\\b']
                action: delete
                examples: { match: ["buy cheap stuff"], no_match: ["buy later"] }
              - id: spam.local-only
                phrases: ["visit my shop"]
                action: hold
                examples: { match: ["Visit my shop today"], no_match: ["a shop"] }
            """, to: dir + "/local/50-spam.yaml")
        try write("""
            guideline: complaints
            title: Complaints
            text: Complaints go to customer care.
            rules:
              - id: complaints.late
                phrases: ["still not arrived"]
                action: route
                route_to: care
                examples: { match: ["my parcel has still not arrived"], no_match: ["it arrived"] }
            """, to: dir + "/local/60-complaints.yaml")
        return (dir, dir + "/shipped:" + dir + "/local")
    }

    @Test func localFilesOverrideShippedRulesAndCheckShowsWhereEachCameFrom() throws {
        let (dir, path) = try overlay()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shippedBefore = try String(contentsOfFile: dir + "/shipped/spam.yaml", encoding: .utf8)
        let check = try WardenProcess.run(["check", "--rules", dir + "/shipped", "--local-rules", dir + "/local"])
        #expect(check.status == 0, "\(check.stderr)")
        let lines = check.stdout.split(separator: "\n").map(String.init)
        func line(_ rule: String) -> String { lines.first { $0.hasPrefix("  \(rule) ") } ?? "" }
        #expect(line("profanity.strong").contains("shipped  \(dir)/shipped/profanity.yaml:"))
        #expect(line("spam.channel").contains("switched to shadow locally  \(dir)/local/50-spam.yaml:4:"))
        #expect(line("spam.links").contains("switched off locally"))
        #expect(line("spam.repeat").contains("local (replaces shipped)  \(dir)/local/50-spam.yaml:7:"))
        #expect(line("spam.local-only").contains("local (added)"))
        #expect(line("complaints.late").contains("local (added)"))
        #expect(check.stdout.contains("ok: 3 guidelines, 5 rules"), "\(check.stdout)")

        // The effective rules judge: the switched rule is shadow, the replaced one is the local one.
        let channel = try WardenProcess.run(["explain", "--rules", path, "check out my channel"])
        #expect(channel.stdout.contains("decision: allow"), "\(channel.stdout)")
        #expect(channel.stdout.contains("shadow: not enforced"))
        let cheap = try WardenProcess.run(["explain", "--rules", path, "buy cheap watches"])
        #expect(cheap.stdout.contains("decision: delete"), "\(cheap.stdout)")
        #expect(try String(contentsOfFile: dir + "/shipped/spam.yaml", encoding: .utf8) == shippedBefore)
    }

    @Test func aLocalSwitchOfAnUnknownRuleIsAnErrorWithItsPosition() throws {
        let (dir, path) = try overlay()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("guideline: profanity\nrules:\n  - id: profanity.strnog\n    mode: shadow\n", to: dir + "/local/70-typo.yaml")
        let check = try WardenProcess.run(["check", "--rules", path])
        #expect(check.status == 3)
        #expect(check.stderr.contains("\(dir)/local/70-typo.yaml:3:9: error: no rule \"profanity.strnog\" to switch; did you mean \"profanity.strong\"?"), "\(check.stderr)")
    }

    @Test func theDaemonRunsOnShippedAndLocalRules() throws {
        let daemon = try DaemonUnderTest()
        try write("guideline: profanity\nrules:\n  - id: profanity.strong\n    mode: shadow\n", to: daemon.root + "/rules.d/50-quiet.yaml")
        try daemon.start(["--local-rules", daemon.root + "/rules.d"])
        try daemon.drop(id: "q1", text: "this is a badword")
        #expect(daemon.eventually { daemon.files(in: "done").contains("q1.json") }, "log:\n\(daemon.log)")
        #expect(daemon.actionFile("q1") == nil, "the locally shadowed rule is not enforced")
        #expect(daemon.stop() == 0)
    }

    // MARK: #11.3 typos are errors

    @Test func testWithAnUnknownRuleIsAnErrorWithDidYouMean() throws {
        let result = try WardenProcess.run(["test", fixture, "--rule", "profanity.strng"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown rule \"profanity.strng\"; did you mean \"profanity.strong\"?"), "\(result.stderr)")
    }

    @Test func confirmingAnUnknownRuleIsAnError() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/var/state", withIntermediateDirectories: true)
        let result = try WardenProcess.run(["confirm", "profanity.strnog", "--state", dir + "/var", "--rules", fixture])
        #expect(result.status == 2)
        #expect(result.stderr.contains("did you mean \"profanity.strong\"?"), "\(result.stderr)")
        let known = try WardenProcess.run(["confirm", "profanity.strong", "--state", dir + "/var", "--rules", fixture])
        #expect(known.status == 0, "\(known.stderr)")
    }

    @Test func pardonChecksTheGuidelineRecordsWhoAndWhyAndStrikesListsEscalatedAuthors() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        for (index, text) in ["badword", "worseword", "badword"].enumerated() {
            try daemon.drop(id: "e\(index)", author: "offender", text: text, createdAt: "2026-11-22T10:00:0\(index)Z")
        }
        #expect(daemon.eventually { daemon.files(in: "done").count == 3 }, "log:\n\(daemon.log)")
        let state = ["--state", daemon.state]
        let rules = ["--rules", daemon.rules]

        let typo = try WardenProcess.run(["pardon", "offender", "--guideline", "profanty"] + state + rules)
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("unknown guideline \"profanty\"; did you mean \"profanity\"?"), "\(typo.stderr)")
        let escalated = try WardenProcess.run(["strikes", "--escalated"] + state)
        #expect(escalated.status == 0)
        #expect(escalated.stdout.contains("offender\tblock_author"), "the typo lifted nothing: \(escalated.stdout)")

        let pardon = try WardenProcess.run(["pardon", "offender", "--guideline", "profanity", "--by", "maria", "--reason", "appeal upheld"] + state + rules)
        #expect(pardon.status == 0, "\(pardon.stderr)")
        let standing = try WardenProcess.run(["strikes", "offender", "--format", "json"] + state)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(standing.stdout.utf8)) as? [String: Any])
        let pardons = try #require(object["pardons"] as? [[String: Any]])
        #expect(pardons.first?["moderator"] as? String == "maria")
        #expect(pardons.first?["reason"] as? String == "appeal upheld")
        #expect(try WardenProcess.run(["strikes", "--escalated"] + state).stdout.contains("no author is escalated"))
        #expect(daemon.stop() == 0)
    }

    @Test func aMissingLedgerIsAClearErrorNotTheUsage() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try WardenProcess.run(["strikes", "u-77", "--state", dir], currentDirectory: dir)
        #expect(result.status == 2)
        #expect(result.stderr.contains("no strike ledger at \(dir)/state/ledger.sqlite"), "\(result.stderr)")
        #expect(!result.stderr.contains("USAGE"))
    }

    // MARK: #11.3 warden.yaml checked like the rules

    @Test(arguments: [
        ("log_levle: debug\n", "warden.yaml:1:1: error: unknown key \"log_levle\"; did you mean \"log_level\"?"),
        ("workers: two\n", "warden.yaml:1:10: error: workers must be a whole number (found \"two\")"),
        ("organisation:\n  nmae: Acme\n", "warden.yaml:2:3: error: unknown key \"organisation.nmae\"; did you mean \"organisation.name\"?"),
        ("retention:\n  done: soon\n", "warden.yaml:2:9: error: retention.done: \"soon\" is not a duration"),
        ("log_level: verbose\n", "warden.yaml:1:12: error: log_level \"verbose\" is not a level"),
    ])
    func configurationMistakesAreErrorsWithTheirPosition(yaml: String, expected: String) throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(yaml, to: dir + "/warden.yaml")
        let result = try WardenProcess.run(["config", "--config", dir + "/warden.yaml"])
        #expect(result.status == 78)
        #expect(result.stderr.contains(dir + "/" + expected), "\(result.stderr)")
        let run = try WardenProcess.run(["run", "--config", dir + "/warden.yaml", "--rules", fixture, "--state", dir + "/var"])
        #expect(run.status == 78, "the daemon refuses to start on it: \(run.stderr)")
    }

    @Test func aMissingConfigurationStopsTheDaemonWithEXCONFIG() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try WardenProcess.run(["run", "--config", dir + "/nope.yaml", "--rules", fixture, "--state", dir + "/var"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("nope.yaml: configuration file not found"))
        #expect(!result.stderr.contains("USAGE"))
    }

    @Test func configPrintsEffectiveValuesAndWhereEachCameFrom() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("organisation:\n  name: Riverside\nworkers: 3\n", to: dir + "/warden.yaml")
        let result = try WardenProcess.run(["config", "--config", dir + "/warden.yaml", "--metrics", "127.0.0.1:9999", "--rules", fixture])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("organisation.name = Riverside # \(dir)/warden.yaml:2:9"), "\(result.stdout)")
        #expect(lines.contains("workers = 3 # \(dir)/warden.yaml:3:10"))
        #expect(lines.contains("metrics = 127.0.0.1:9999 # --metrics"))
        #expect(lines.contains("rules = \(fixture) # --rules"))
        #expect(lines.contains("retention.done = 30d # default"))
    }

    // MARK: #11.8 defaults outside a checkout

    /// The binary placed as a package would place it, in a fake root.
    private func installedRoot() throws -> String {
        let root = try WardenProcess.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: root + "/usr/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/usr/share/warden", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        if link(WardenBinary.path, root + "/usr/bin/warden") != 0 {
            try FileManager.default.copyItem(atPath: WardenBinary.path, toPath: root + "/usr/bin/warden")
        }
        try FileManager.default.copyItem(atPath: fixture, toPath: root + "/usr/share/warden/rules")
        try write("organisation:\n  name: Riverside Housing\n", to: root + "/etc/warden/warden.yaml")
        try FileManager.default.createDirectory(atPath: root + "/etc/warden/rules.d", withIntermediateDirectories: true)
        return root
    }

    @Test func outsideACheckoutTheInstalledPathsAreUsedAndSaidSo() throws {
        let root = try installedRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let binary = root + "/usr/bin/warden"
        func run(_ arguments: [String]) throws -> WardenProcess.Result {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: root + "/home")
            process.environment = ["NO_COLOR": "1", "PATH": "/usr/bin:/bin"]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return .init(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
        }
        let explain = try run(["explain", "--format", "json", "what the f*ck"])
        #expect(explain.status == 0, "\(explain.stderr)")
        #expect(explain.stderr.contains("no ./rules here: using the installed rules \(root)/usr/share/warden/rules with local overrides from \(root)/etc/warden/rules.d"))
        #expect(explain.stderr.contains("using the installed configuration \(root)/etc/warden/warden.yaml"))
        #expect(explain.stdout.contains("Riverside Housing") || explain.stdout.contains("\"delete\""), "\(explain.stdout)")

        try FileManager.default.createDirectory(atPath: root + "/var/lib/warden", withIntermediateDirectories: true)
        let strikes = try run(["strikes", "u-77"])
        #expect(strikes.status == 2)
        #expect(strikes.stderr.contains("no strike ledger at \(root)/var/lib/warden/state/ledger.sqlite"), "\(strikes.stderr)")
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root to run as nobody"))
    func strikesWorksWithReadAccessOnly() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        try daemon.drop(id: "r1", author: "u-77", text: "badword")
        #expect(daemon.eventually { daemon.files(in: "done").contains("r1.json") })
        #expect(daemon.stop() == 0)
        // Others may read the state, not write it: what a moderator in group warden has.
        for path in [daemon.root, daemon.state, daemon.state + "/state"] { chmod(path, 0o755) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: daemon.state + "/state")) ?? [] {
            chmod(daemon.state + "/state/" + name, 0o644)
        }
        let result = try runCapturingOutput("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", WardenBinary.path, "strikes", "u-77", "--state", daemon.state])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("1 strike"), "\(result.output)")
    }

    // MARK: #11.9 the smaller items

    @Test func guidelinesFooterComesFromATemplateAndJSONIsRefused() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("""
            organisation:
              name: Stadtwerke
              contact: eine Direktnachricht
              guidelines_footer: "Fehler? Schreiben Sie {{org.name}} {{org.contact}}."
            """, to: dir + "/warden.yaml")
        let page = try WardenProcess.run(["guidelines", fixture, "--config", dir + "/warden.yaml"])
        #expect(page.status == 0, "\(page.stderr)")
        #expect(page.stdout.hasSuffix("Fehler? Schreiben Sie Stadtwerke eine Direktnachricht.\n"), "\(page.stdout.suffix(80))")
        let plain = try WardenProcess.run(["guidelines", fixture])
        #expect(plain.stdout.hasSuffix("If you think we got it wrong, tell our team by a private message to our page.\n"))
        let json = try WardenProcess.run(["guidelines", fixture, "--format", "json"])
        #expect(json.status == 2)
        #expect(json.stderr.contains("--format json is not supported"))
    }

    @Test func diffWithInvalidLinesExitsTwoLikeScan() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("{\"id\":\"a\",\"author\":{\"id\":\"u\"},\"text\":\"hi\"}\nnot json\n", to: dir + "/posts.jsonl")
        let diff = try WardenProcess.run(["diff", "--current", fixture, "--new-rules", fixture, dir + "/posts.jsonl"])
        #expect(diff.status == 2)
        #expect(diff.stderr.contains("posts.jsonl:2:"))
        let scan = try WardenProcess.run(["scan", "--rules", fixture, dir + "/posts.jsonl"])
        #expect(scan.status == 2)
    }

    @Test func invalidRulesAndChangedDecisionsHaveDistinctExitCodes() throws {
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("guideline: spam\ntitle: T\ntext: t\nrules:\n  - id: s.a\n    patterns: ['(unclosed']\n    action: hide\n", to: dir + "/bad/spam.yaml")
        try write("{\"id\":\"a\",\"author\":{\"id\":\"u\"},\"text\":\"hi\"}\n", to: dir + "/posts.jsonl")
        let diff = try WardenProcess.run(["diff", "--current", fixture, "--new-rules", dir + "/bad", dir + "/posts.jsonl"])
        #expect(diff.status == 3, "invalid rules: \(diff.stderr)")
    }

    @Test func runHelpReadsWell() throws {
        let help = try WardenProcess.run(["run", "--help"])
        #expect(help.status == 0)
        #expect(!help.stdout.contains("(default ./var). (default: ./var)"))
        #expect(help.stdout.contains("--log-level <log-level>"))
        let flat = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.contains("values: trace, debug, info, notice, warning, error, critical"), "\(help.stdout)")
        let bad = try WardenProcess.run(["run", "--log-level", "loud"])
        #expect(bad.status == 2)
    }

    // MARK: #11.4 logs under systemd

    @Test func underJournaldEveryLineHasItsPriorityAndNoTimestamp() throws {
        let daemon = try DaemonUnderTest()
        FileManager.default.createFile(atPath: daemon.logPath, contents: nil)
        var status = stat()
        #expect(stat(daemon.logPath, &status) == 0)
        try daemon.start(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"])
        try daemon.drop(id: "j1", text: "this is a badword")
        #expect(daemon.eventually { daemon.files(in: "done").contains("j1.json") })
        #expect(daemon.stop() == 0)
        let lines = daemon.log.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.range(of: #"^<[0-7]>level=[a-z]+ msg="#, options: .regularExpression) != nil, "\(line)")
        }
        #expect(lines.contains { $0.hasPrefix("<5>level=notice msg=\"warden starting\"") && $0.contains("version=") && $0.contains("commit=") })
        #expect(!daemon.log.contains("badword"), "a post's text never reaches the log")
    }

    // MARK: the unit's ExecReload

    @Test func unitReloadChecksTheRulesBeforeSignalling() throws {
        let unit = try String(contentsOfFile: WardenBinary.repositoryRoot + "/systemd/warden.service", encoding: .utf8)
        let reloads = unit.split(separator: "\n").filter { $0.hasPrefix("ExecReload=") }.map { String($0.dropFirst("ExecReload=".count)) }
        #expect(reloads.count == 2)
        #expect(reloads.last == "/bin/kill -HUP $MAINPID")
        let check = try #require(reloads.first)
        #expect(check.hasPrefix("@BINDIR@/warden check "))
        // The first command, pointed at broken rules, fails: systemd then never sends HUP.
        let dir = try WardenProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: fixture, toPath: dir + "/shipped")
        try write("", to: dir + "/etc/warden/warden.yaml")
        try write("guideline: spam\nrules:\n  - id: spam.links\n    mode: loud\n", to: dir + "/etc/warden/rules.d/bad.yaml")
        let arguments = check.replacingOccurrences(of: "@SYSCONFDIR@", with: dir + "/etc").replacingOccurrences(of: "@DATADIR@/warden/rules", with: dir + "/shipped")
            .split(separator: " ").dropFirst().map(String.init)
        let broken = try WardenProcess.run(arguments)
        #expect(broken.status == 3, "\(arguments) \(broken.stderr)")
        try FileManager.default.removeItem(atPath: dir + "/etc/warden/rules.d/bad.yaml")
        #expect(try WardenProcess.run(arguments).status == 0)
    }
}
