import Foundation
import Glibc
import Testing

/// `warden run` as ops and moderators meet it: the real binary on a temporary spool.
/// Serialized because each test starts a daemon with two workers on a two-core machine.
@Suite(.serialized) struct DaemonTests {
    @Test func postsInActionsOut() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        try daemon.drop(id: "p-swear", text: "what a badword this is")
        try daemon.drop(id: "p-complaint", author: "u2", text: "worst service ever, you never called me back")
        try daemon.drop(id: "p-fine", author: "u3", text: "thanks for the quick reply")
        #expect(daemon.eventually { daemon.files(in: "done").count == 3 }, "log:\n\(daemon.log)")
        #expect(daemon.actionFile("p-swear")?["action"] as? String == "delete")
        #expect(daemon.actionFile("p-complaint")?["action"] as? String == "route")
        #expect(daemon.actionFile("p-fine") == nil, "an allowed post gets no action file")
        #expect(daemon.files(in: "outbox").allSatisfy { !$0.hasPrefix(".") }, "no temporary file is left behind")
        let decisions = try String(contentsOfFile: daemon.state + "/decisions.jsonl", encoding: .utf8)
        #expect(decisions.split(separator: "\n").count == 3, "every decision is logged, allow included")
        #expect(daemon.files(in: "processing").isEmpty)
        #expect(daemon.stop() == 0)
    }

    @Test func anEditIsJudgedAgainAndItsActionFileReplaced() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        try daemon.drop(id: "p1", text: "badword", name: "first.json")
        #expect(daemon.eventually { daemon.actionFile("p1") != nil })
        try daemon.drop(id: "p1", text: "all fine now", name: "edit.json")
        #expect(daemon.eventually { daemon.files(in: "done").count == 2 })
        #expect(daemon.eventually { daemon.actionFile("p1") == nil }, "the edited post is allowed: its stale action file goes")
        let strikes = try daemon.warden(["strikes", "u1", "--state", daemon.state])
        #expect(strikes.output.contains("0 strikes"), "the edit replaced the post's strike: \(strikes.output)")

        // An original and its edit arriving together, most likely in one batch.
        try daemon.drop(id: "p2", text: "badword", name: "original.json")
        try daemon.drop(id: "p2", text: "worseword", name: "edited.json")
        #expect(daemon.eventually { daemon.files(in: "done").count == 4 }, "log:\n\(daemon.log)")
        let matches = daemon.actionFile("p2")?["matches"] as? [[String: Any]]
        #expect(matches?.first?["text"] as? String == "worseword", "the later version's action file wins")
        #expect(daemon.files(in: "outbox").allSatisfy { !$0.hasPrefix(".") }, "no temporary left: \(daemon.files(in: "outbox"))")
    }

    @Test func badPostsGoToFailedWithAReasonAndTheDaemonStaysUp() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        let inbox = daemon.state + "/inbox/"
        try daemon.dropRaw(name: "not-json.json", bytes: Data("{ this is not json".utf8))
        try daemon.dropRaw(name: "no-text.json", bytes: Data(#"{"id":"x1","author":{"id":"u1"}}"#.utf8))
        try daemon.dropRaw(name: "bad-id.json", bytes: Data(#"{"id":"../../etc/x","author":{"id":"u1"},"text":"hi"}"#.utf8))
        try daemon.dropRaw(name: "huge.json", bytes: Data(repeating: UInt8(ascii: " "), count: (1 << 20) + 10))
        try daemon.dropRaw(name: "latin1.json", bytes: Data([0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xE9, 0x22, 0x7D]))
        #expect(symlink("/etc/passwd", inbox + "link.json") == 0)
        #expect(mkfifo(inbox + "fifo.json", 0o644) == 0)
        #expect(mkdir(inbox + "dir.json", 0o755) == 0)
        try daemon.dropRaw(name: "batch.jsonl", bytes: Data("""
            {"id":"b1","author":{"id":"u9"},"text":"fine"}
            not json at all
            {"id":"b2","author":{"id":"u9"},"text":"badword"}

            """.utf8))
        let expected = ["not-json.json", "no-text.json", "bad-id.json", "huge.json", "latin1.json", "link.json", "fifo.json", "dir.json", "batch.jsonl.line-2"]
        // NAME.error is written first, then NAME is moved beside it: wait for both.
        #expect(daemon.eventually { expected.allSatisfy { daemon.files(in: "failed").contains($0 + ".error") && daemon.files(in: "failed").contains($0) } },
                "failed/: \(daemon.files(in: "failed")); log:\n\(daemon.log)")
        for name in expected {
            let reason = (try? String(contentsOfFile: daemon.state + "/failed/" + name + ".error", encoding: .utf8)) ?? ""
            #expect(!reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(name) has a reason")
        }
        let linkReason = try String(contentsOfFile: daemon.state + "/failed/link.json.error", encoding: .utf8)
        #expect(linkReason.contains("symbolic link"))
        #expect(try String(contentsOfFile: daemon.state + "/failed/huge.json.error", encoding: .utf8).contains("limit"))
        var info = stat()
        // NAME.error is renamed in before the post is moved beside it: wait for the move.
        #expect(daemon.eventually { lstat(daemon.state + "/failed/link.json", &info) == 0 } && info.st_mode & S_IFMT == S_IFLNK,
                "the link was moved, never followed")
        #expect(daemon.eventually { daemon.files(in: "done").contains("batch.jsonl") }, "good lines of a batch file are judged")
        #expect(daemon.actionFile("b2")?["action"] as? String == "delete")
        #expect(daemon.files(in: "inbox").isEmpty)

        try daemon.drop(id: "after", text: "badword again")
        #expect(daemon.eventually { daemon.actionFile("after") != nil }, "the daemon is still up")
    }

    @Test func restartJudgesPostsLeftInProcessingBeforeReady() throws {
        let daemon = try DaemonUnderTest()
        let fileManager = FileManager.default
        for directory in ["inbox", "processing", "outbox"] {
            try fileManager.createDirectory(atPath: daemon.state + "/" + directory, withIntermediateDirectories: true)
        }
        // What a crash leaves: claimed posts, and a half-written action file.
        for (id, text) in [("left1", "badword"), ("left2", "hello")] {
            let object: [String: Any] = ["id": id, "author": ["id": "u1"], "text": text]
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: daemon.state + "/processing/\(id).json"))
        }
        try Data("{\"post_id\":\"left1\",\"act".utf8).write(to: URL(fileURLWithPath: daemon.state + "/outbox/.left1.json.tmp"))
        try daemon.start()
        #expect(daemon.files(in: "processing").isEmpty, "READY=1 only after recovery")
        #expect(daemon.files(in: "done") == ["left1.json", "left2.json"])
        #expect(daemon.files(in: "outbox") == ["left1.json"])
        #expect(daemon.actionFile("left1")?["action"] as? String == "delete")
    }

    @Test func sigtermFinishesPostsInFlightAndLeavesNothingHalfWritten() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        for index in 0..<400 {
            try daemon.drop(id: "burst-\(index)", author: "u\(index % 17)", text: index % 3 == 0 ? "badword" : "fine")
        }
        daemon.signal(SIGTERM)
        #expect(daemon.notify.wait(for: { $0.contains("STOPPING=1") }) != nil)
        #expect(daemon.stop() == 0)
        #expect(daemon.files(in: "processing").isEmpty, "every claimed post was finished")
        #expect(daemon.files(in: "outbox").allSatisfy { !$0.hasPrefix(".") })
        let finished = Set(daemon.files(in: "done")).union(daemon.files(in: "inbox"))
        #expect(finished.count == 400, "each post is in exactly one of inbox/ (not yet claimed) or done/")
        for name in daemon.files(in: "done") where Int(name.dropFirst(6).dropLast(5)).map({ $0 % 3 == 0 }) == true {
            #expect(daemon.actionFile(String(name.dropLast(5))) != nil, "\(name) was acted on durably")
        }
    }

    @Test func reloadsGoodRulesAndRefusesBrokenOnesKeepingTheRunningRules() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start(["--metrics", "127.0.0.1:\(daemon.metricsPort)"])
        try daemon.drop(id: "before", text: "what a newword")
        #expect(daemon.eventually { daemon.files(in: "done").contains("before.json") })
        #expect(daemon.actionFile("before") == nil)

        let profanity = daemon.rules + "/profanity.yaml"
        let original = try String(contentsOfFile: profanity, encoding: .utf8)
        try original.replacingOccurrences(of: "words: [badword, worseword]", with: "words: [badword, worseword, newword]")
            .write(toFile: profanity, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        let reloading = daemon.notify.wait(for: { $0.contains("RELOADING=1") })
        #expect(reloading?.contains("MONOTONIC_USEC=") == true)
        #expect(daemon.notify.wait(for: { $0.contains("READY=1") }) != nil)
        #expect(daemon.eventually { daemon.log.contains("rules reloaded") }, "log:\n\(daemon.log)")
        try daemon.drop(id: "after-good", text: "what a newword")
        #expect(daemon.eventually { daemon.actionFile("after-good") != nil })

        try """
            guideline: broken
            title: Broken
            text: A rule file with a typo.
            url: https://example.org/broken
            strikes: false
            rules:
              - id: broken.pattern
                patterns: ['(unclosed']
                action: delete

            """.write(toFile: daemon.rules + "/broken.yaml", atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.notify.wait(for: { $0.contains("RELOADING=1") }) != nil)
        #expect(daemon.notify.wait(for: { $0.contains("READY=1") }) != nil)
        #expect(daemon.eventually { daemon.log.contains("rules change refused") }, "log:\n\(daemon.log)")
        #expect(daemon.log.contains("broken.yaml:8:"), "the refusal names file:line:column; log:\n\(daemon.log)")
        try daemon.drop(id: "after-broken", text: "what a newword")
        #expect(daemon.eventually { daemon.actionFile("after-broken") != nil }, "the running rules stay in force")
        let metrics = daemon.httpGet("/metrics") ?? ""
        #expect(metrics.contains("warden_reloads_total{result=\"refused\"}"), "metrics:\n\(metrics)")
        #expect(metrics.contains("warden_posts_total{action=\"delete\"}"))
        #expect(daemon.httpGet("/healthz")?.contains("200 OK") == true)
    }

    @Test func notifiesSystemdReadyStatusWatchdogAndStopping() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start(environment: ["WATCHDOG_USEC": "400000"])
        let ready = daemon.notify.messages.first { $0.contains("READY=1") } ?? ""
        #expect(ready.contains("STATUS="))
        #expect(daemon.notify.wait(timeout: 5, for: { $0 == "WATCHDOG=1" }) != nil, "WATCHDOG=1 at half of WATCHDOG_USEC")
        try daemon.drop(id: "s1", text: "hello")
        #expect(daemon.notify.wait(timeout: 10, for: { $0.hasPrefix("STATUS=Judged 1 posts") }) != nil, "\(daemon.notify.messages)")
        daemon.signal(SIGTERM)
        #expect(daemon.notify.wait(for: { $0.contains("STOPPING=1") }) != nil)
        #expect(daemon.stop() == 0)
    }

    @Test func strikesReachingAThresholdEscalateUntilPardoned() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        let posts: [(String, String)] = [("s1", "badword"), ("s2", "worseword"), ("s3", "just a question"), ("s4", "badword"), ("s5", "hello")]
        for (index, (id, text)) in posts.enumerated() {
            try daemon.drop(id: id, author: "repeat-offender", text: text, createdAt: "2026-11-22T10:00:0\(index)Z")
        }
        #expect(daemon.eventually { daemon.files(in: "done").count == 5 }, "log:\n\(daemon.log)")
        func author(_ id: String) -> [String: Any]? { daemon.actionFile(id)?["author"] as? [String: Any] }
        #expect(author("s1")?["strikes"] as? Int == 1)
        #expect(author("s2")?["escalation"] as? String == "hold_author")
        #expect(daemon.actionFile("s3")?["action"] as? String == "hold", "a held author's clean post is held")
        #expect(author("s4")?["escalation"] as? String == "block_author")
        #expect(daemon.actionFile("s5")?["action"] as? String == "delete", "a blocked author's posts are removed")

        let standing = try daemon.warden(["strikes", "repeat-offender", "--state", daemon.state])
        #expect(standing.output.contains("3 strikes") && standing.output.contains("block_author"), "\(standing.output)")
        let pardon = try daemon.warden(["pardon", "repeat-offender", "--state", daemon.state])
        #expect(pardon.status == 0, "\(pardon.output)")
        #expect(daemon.eventually { daemon.log.contains("pardon applied") })
        try daemon.drop(id: "s6", author: "repeat-offender", text: "hello again")
        #expect(daemon.eventually { daemon.files(in: "done").contains("s6.json") })
        #expect(daemon.actionFile("s6") == nil, "after the pardon the author posts freely")
    }

    @Test func floodAndRepeatedPostsAreSeenAcrossPostsInEventTime() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        for (index, text) in ["one", "two", "three", "four"].enumerated() {
            try daemon.drop(id: "f\(index)", author: "flooder", text: "message \(text)", createdAt: "2026-11-22T10:00:0\(index)Z")
        }
        try daemon.drop(id: "r1", author: "repeater", text: "same again", createdAt: "2026-11-22T10:00:00Z")
        try daemon.drop(id: "r2", author: "repeater", text: "same again", createdAt: "2026-11-22T10:30:00Z")
        #expect(daemon.eventually { daemon.files(in: "done").count == 6 }, "log:\n\(daemon.log)")
        #expect(daemon.actionFile("f2") == nil, "three posts in a minute is not a flood")
        #expect(daemon.actionFile("f3")?["action"] as? String == "hold", "the fourth in a minute is")
        #expect(daemon.actionFile("r1") == nil)
        #expect(daemon.actionFile("r2")?["action"] as? String == "hide", "the same text again within the hour")
    }
}

/// The daemon with almost no author memory (one author per shard) must decide exactly as
/// with plenty: authors pushed out of memory are read back from the ledger.
@Suite struct DaemonMemoryTests {
    /// A daemon far behind keeps at most `max_noticed` names of waiting posts in memory (a
    /// soak that fell 2.5 million posts behind held them all: 1.1 GB): the rest are taken
    /// oldest first from listings of inbox/. Every post is still judged, each author's in
    /// the order written, whether it waited before the start (listings) or arrived while
    /// the daemon was behind (inotify names dropped, listed later).
    @Test func aBacklogBeyondTheNoticedLimitIsTakenOldestFirstAndInOrder() throws {
        let daemon = try DaemonUnderTest()
        let config = daemon.root + "/warden.yaml"
        try "max_noticed: 8\nmax_in_flight: 4\n".write(toFile: config, atomically: true, encoding: .utf8)
        func post(_ n: Int) throws {
            try daemon.drop(id: String(format: "p%04d", n), author: "a\(n % 4)", text: "message number \(n)",
                            createdAt: String(format: "2026-11-22T10:%02d:%02dZ", n / 60, n % 60))
        }
        for n in 0..<120 { try post(n) }
        try daemon.start(["--config", config])
        for n in 120..<240 { try post(n) }
        #expect(daemon.eventually(timeout: 90) { daemon.files(in: "done").count == 240 }, "log:\n\(daemon.log)")
        #expect(daemon.files(in: "failed").isEmpty)
        #expect(daemon.log.contains("inbox/ holds more posts than are kept noticed"), "log:\n\(daemon.log)")
        #expect(daemon.log.contains("inbox/ caught up"), "log:\n\(daemon.log)")
        var order: [String: [String]] = [:]
        for line in (daemon.contents("decisions.jsonl") ?? "").split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["post_id"] as? String, let author = (object["author"] as? [String: Any])?["id"] as? String else { continue }
            order[author, default: []].append(id)
        }
        #expect(order.values.map(\.count).reduce(0, +) == 240)
        for (author, ids) in order { #expect(ids == ids.sorted(), "\(author)'s posts were judged out of order: \(ids)") }
        #expect(daemon.stop() == 0)
    }

    /// The daemon's shard of an author (FNV-1a of the id, 256 shards; `AuthorOrderedQueue`).
    private func shard(_ author: String) -> UInt64 {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in author.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return hash % 256
    }

    @Test func strikesAndEscalationsSurviveTheAuthorLeavingMemory() throws {
        let daemon = try DaemonUnderTest()
        let config = daemon.root + "/warden.yaml"
        try "memory:\n  max_authors: 1\n  max_history_entries: 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        try daemon.start(["--config", config, "--metrics", "127.0.0.1:\(daemon.metricsPort)"])
        // Authors in the offender's shard, so that each of their posts pushes the offender out.
        let offender = "repeat-offender"
        let neighbours = (0..<5_000).map { "neighbour-\($0)" }.filter { shard($0) == shard(offender) }.prefix(3)
        #expect(neighbours.count == 3)
        let plan: [(id: String, author: String, text: String)] = [
            ("m1", offender, "badword"), ("n1", neighbours[neighbours.startIndex], "hello"),
            ("m2", offender, "same again"), ("n2", neighbours[neighbours.startIndex + 1], "hello"),
            ("m3", offender, "worseword"), ("n3", neighbours[neighbours.startIndex + 2], "hello"),
            ("m4", offender, "same again"), ("n4", neighbours[neighbours.startIndex], "hello"),
            ("m5", offender, "badword"), ("n5", neighbours[neighbours.startIndex + 1], "hello"),
            ("m6", offender, "a perfectly fine post"),
        ]
        for (index, post) in plan.enumerated() {
            try daemon.drop(id: post.id, author: post.author, text: post.text,
                            createdAt: "2026-11-22T10:\(String(format: "%02d", index * 5)):00Z")
            // One at a time: each post's batch is in the ledger before the next evicts its author.
            #expect(daemon.eventually { daemon.files(in: "done").count == index + 1 }, "log:\n\(daemon.log)")
        }
        func author(_ id: String) -> [String: Any]? { daemon.actionFile(id)?["author"] as? [String: Any] }
        #expect(author("m1")?["strikes"] as? Int == 1)
        #expect(daemon.actionFile("m2")?["action"] as? String == "allow" || daemon.actionFile("m2") == nil)
        #expect(author("m3")?["strikes"] as? Int == 2)
        #expect(author("m3")?["escalation"] as? String == "hold_author")
        // The same text again within the hour (hide, stronger than the hold_author floor).
        #expect(daemon.actionFile("m4")?["action"] as? String == "hide")
        #expect((daemon.actionFile("m4")?["rules"] as? [String])?.contains("spam.repeat") == true)
        #expect(author("m4")?["escalation"] as? String == "hold_author")
        #expect(author("m5")?["escalation"] as? String == "block_author")
        #expect(daemon.actionFile("m6")?["action"] as? String == "delete", "a blocked author's posts are removed")
        for id in ["n1", "n2", "n3"] { #expect(daemon.actionFile(id) == nil) }
        // n4 and n5 repeat what their authors wrote before being pushed out of memory.
        for id in ["n4", "n5"] { #expect(daemon.actionFile(id)?["rules"] as? [String] == ["spam.repeat"]) }
        let metrics = daemon.httpGet("/metrics") ?? ""
        let reads = metrics.split(separator: "\n").first { $0.hasPrefix("warden_author_reads_total") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        #expect(reads >= 10, "every post of the offender and of n4, n5 came after its author was pushed out: \(metrics)")
        #expect(daemon.stop() == 0)
    }
}
