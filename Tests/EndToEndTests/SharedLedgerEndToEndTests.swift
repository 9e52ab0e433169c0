import Foundation
import Testing

/// The real `warden run`, three instances with their own spools sharing one PostgreSQL
/// ledger, against one instance on SQLite judging the same posts in event-time order.
/// Runs when `WARDEN_TEST_POSTGRES` names a server (`make test` starts a private one).
@Suite(.serialized, .enabled(if: SharedDatabase.serverURL != nil, "needs WARDEN_TEST_POSTGRES (make test starts a private cluster)"))
struct SharedLedgerEndToEndTests {
    struct Outcome: Equatable, CustomStringConvertible {
        var action: String
        var rules: [String]
        var escalation: String?
        var strikes: Int?
        var description: String { "\(action)\(escalation.map { "+\($0)" } ?? "") strikes=\(strikes.map(String.init) ?? "-") \(rules)" }
    }

    /// Six authors, six rounds: each round has one post per author, on a different instance
    /// each time, so every author's strikes and history must travel through the database.
    /// (Posts of one author are not concurrent here: the next test is about that.)
    @Test func threeInstancesDecideExactlyAsOne() throws {
        let texts = ["hello there", "this is a badword", "same again", "same again", "badword again", "a fine post"]
        var posts: [(id: String, author: String, text: String, createdAt: String, round: Int, authorIndex: Int)] = []
        for round in 0..<6 {
            for author in 0..<6 {
                let minute = round * 5 + author
                posts.append(("r\(round)-a\(author)", "a\(author)", texts[(round + author) % texts.count],
                              String(format: "2026-11-22T10:%02d:00Z", minute), round, author))
            }
        }
        func json(_ post: (id: String, author: String, text: String, createdAt: String, round: Int, authorIndex: Int)) -> String {
            let object: [String: Any] = ["id": post.id, "author": ["id": post.author], "text": post.text, "created_at": post.createdAt]
            return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }

        // One instance, SQLite, every post in one file in event-time order.
        let single = try DaemonUnderTest(rulesFixture: "escalation-rules")
        try single.start()
        let ordered = posts.sorted { $0.createdAt < $1.createdAt }
        try single.dropRaw(name: "all.jsonl", bytes: Data((ordered.map(json).joined(separator: "\n") + "\n").utf8))
        let singleDone = single.eventually(timeout: 60) { decisions(of: single).count == posts.count }
        #expect(single.stop() == 0)
        try #require(singleDone, "the single instance did not judge every post; log:\n\(single.log)")
        let expected = decisions(of: single)

        // Three instances sharing one database.
        let database = try SharedDatabase()
        let instances = try (0..<3).map { _ in try DaemonUnderTest(rulesFixture: "escalation-rules") }
        for instance in instances { try instance.start(["--config", try database.configFile(in: instance)]) }
        defer { for instance in instances where instance.isRunning { instance.stop() } }
        for round in 0..<6 {
            let thisRound = posts.filter { $0.round == round }
            for post in thisRound {
                try instances[(post.authorIndex + round) % instances.count].dropRaw(name: post.id + ".json", bytes: Data(json(post).utf8))
            }
            let judged = instances[0].eventually(timeout: 60) {
                let done = Set(instances.flatMap { $0.files(in: "done") })
                return thisRound.allSatisfy { done.contains($0.id + ".json") }
            }
            try #require(judged, "round \(round) was not judged; logs:\n\(instances.map(\.log).joined(separator: "\n---\n"))")
        }
        for instance in instances { #expect(instance.stop() == 0, "log:\n\(instance.log)") }
        var shared: [String: Outcome] = [:]
        for instance in instances { shared.merge(decisions(of: instance)) { first, _ in first } }

        #expect(shared.count == posts.count)
        for post in posts {
            #expect(shared[post.id] == expected[post.id], "\(post.id) by \(post.author): three instances \(shared[post.id].map(\.description) ?? "nothing"), one instance \(expected[post.id].map(\.description) ?? "nothing")")
        }
        // The rounds really did cross instances: some author escalated on strikes judged elsewhere.
        #expect(expected.values.contains { $0.escalation == "block_author" })
    }

    /// One author's posts land on all three instances at once. Every post must see the
    /// strikes of those judged before it on any host: the counts are 1…n with none repeated,
    /// exactly one post comes before the escalation, and the ledger holds one escalation.
    @Test func oneAuthorOnThreeInstancesAtOnceCountsEveryStrikeOnce() throws {
        let database = try SharedDatabase()
        let instances = try (0..<3).map { _ in try DaemonUnderTest(rulesFixture: "escalation-rules") }
        for instance in instances { try instance.start(["--config", try database.configFile(in: instance)]) }
        defer { for instance in instances where instance.isRunning { instance.stop() } }
        let perInstance = 10
        // One time stamp for all: every strike counts for every post, whatever order the
        // hosts take them in, so the expected counts do not depend on the interleaving.
        for (index, instance) in instances.enumerated() {
            let lines = (0..<perInstance).map { n in
                #"{"id":"hot-\#(index)-\#(n)","author":{"id":"hot"},"text":"badword number \#(index * perInstance + n)","created_at":"2026-11-22T10:00:00Z"}"#
            }
            try instance.dropRaw(name: "hot-\(index).jsonl", bytes: Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        let total = instances.count * perInstance
        let judged = instances[0].eventually(timeout: 90) { instances.reduce(0) { $0 + decisions(of: $1).count } == total }
        for instance in instances { #expect(instance.stop() == 0, "log:\n\(instance.log)") }
        try #require(judged, "not every post was judged; logs:\n\(instances.map(\.log).joined(separator: "\n---\n"))")

        let outcomes = instances.flatMap { decisions(of: $0).values }
        let counts = outcomes.compactMap(\.strikes).sorted()
        #expect(counts == Array(1...total), "every post saw the strikes before it, none counted twice")
        #expect(outcomes.filter { $0.escalation == nil }.count == 1, "only the first post comes before the escalation: \(outcomes)")
        #expect(try database.query("SELECT count(*) FROM escalations WHERE author = 'hot'") == "1")
        #expect(try database.query("SELECT count(*) FROM strikes WHERE author = 'hot'") == "\(total)")
    }

    /// `warden strikes`, `pardon` and `confirm` given the instances' warden.yaml read and
    /// write the shared database, not a SQLite file under the state root: a pardon taken on
    /// one host lifts the escalation for the next post on another host.
    @Test func moderatorCommandsUseTheSharedLedger() throws {
        let database = try SharedDatabase()
        let instances = try (0..<2).map { _ in try DaemonUnderTest(rulesFixture: "escalation-rules") }
        let configs = try instances.map { try database.configFile(in: $0) }
        for (instance, config) in zip(instances, configs) { try instance.start(["--config", config]) }
        defer { for instance in instances where instance.isRunning { instance.stop() } }
        for (n, instance) in instances.enumerated() {
            try instance.dropRaw(name: "m\(n).json", bytes: Data(#"{"id":"m\#(n)","author":{"id":"mod-target"},"text":"a badword \#(n)","created_at":"2026-11-22T10:0\#(n):00Z"}"#.utf8))
            try #require(instance.eventually(timeout: 60) { decisions(of: instance)["m\(n)"] != nil }, "log:\n\(instance.log)")
        }
        // The moderator runs the commands on the second host, whose own SQLite ledger file
        // does not exist: what they show must come from the database.
        let strikes = try instances[1].warden(["strikes", "mod-target", "--config", configs[1], "--state", instances[1].state, "--format", "json"])
        #expect(strikes.status == 0, "\(strikes.output)")
        #expect(strikes.output.contains(#""escalation":"block_author""#), "\(strikes.output)")
        #expect(strikes.output.contains(#""post_id":"m0""#) && strikes.output.contains(#""post_id":"m1""#), "strikes judged on both hosts: \(strikes.output)")
        let escalated = try instances[1].warden(["strikes", "--escalated", "--config", configs[1], "--state", instances[1].state])
        #expect(escalated.output.contains("mod-target\tblock_author"), "\(escalated.output)")

        let pardon = try instances[1].warden(["pardon", "mod-target", "--reason", "appeal upheld", "--by", "sam", "--config", configs[1], "--state", instances[1].state])
        #expect(pardon.status == 0, "\(pardon.output)")
        #expect(pardon.output.contains("2 strikes removed"), "\(pardon.output)")
        #expect(try database.query("SELECT moderator || ':' || reason FROM pardons WHERE author = 'mod-target'") == "sam:appeal upheld")

        // The first host's daemon reads the pardon from the database: the next post starts
        // from no strikes and no escalation.
        try instances[0].dropRaw(name: "m2.json", bytes: Data(#"{"id":"m2","author":{"id":"mod-target"},"text":"a badword again","created_at":"2026-11-22T10:09:00Z"}"#.utf8))
        try #require(instances[0].eventually(timeout: 60) { decisions(of: instances[0])["m2"] != nil }, "log:\n\(instances[0].log)")
        #expect(decisions(of: instances[0])["m2"] == Outcome(action: "hold", rules: ["profanity.hold"], escalation: nil, strikes: 1))

        // A misspelt rule is refused, and nothing is demoted in the shared guard.
        let confirm = try instances[1].warden(["confirm", "--config", configs[1], "--state", instances[1].state])
        #expect(confirm.status == 0 && confirm.output.contains("no rule is demoted"), "\(confirm.output)")
        for instance in instances { #expect(instance.stop() == 0, "log:\n\(instance.log)") }
    }

    /// decisions.jsonl of one instance, by post id.
    private func decisions(of daemon: DaemonUnderTest) -> [String: Outcome] {
        var result: [String: Outcome] = [:]
        guard let text = daemon.contents("decisions.jsonl") else { return result }
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["post_id"] as? String, let action = object["action"] as? String else { continue }
            let author = object["author"] as? [String: Any]
            result[id] = Outcome(action: action, rules: object["rules"] as? [String] ?? [], escalation: author?["escalation"] as? String,
                                 strikes: author?["strikes"] as? Int)
        }
        return result
    }
}

/// A new database on the test server, through psql (this target links nothing of Warden's).
final class SharedDatabase {
    static var serverURL: String? {
        ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    let url: String

    init() throws {
        guard let server = Self.serverURL, var components = URLComponents(string: server) else {
            throw DaemonTestError("WARDEN_TEST_POSTGRES is not a URL")
        }
        let name = "warden_e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let created = try runCapturingOutput("/usr/bin/psql", [server, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE \(name)"])
        guard created.status == 0 else { throw DaemonTestError("cannot create a test database: \(created.output)") }
        components.path = "/" + name
        url = components.string ?? server
    }

    /// A warden.yaml naming the shared ledger, in the instance's directory.
    func configFile(in daemon: DaemonUnderTest) throws -> String {
        let path = daemon.root + "/warden.yaml"
        try "ledger: \(url)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func query(_ sql: String) throws -> String {
        let result = try runCapturingOutput("/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-tAc", sql])
        guard result.status == 0 else { throw DaemonTestError("psql: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
