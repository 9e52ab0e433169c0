import Foundation
import Testing

/// Two hosts, each with the real `warden run` and `warden console` on its own spool, sharing
/// one PostgreSQL database: one queue with both hosts' held posts, each naming its instance;
/// a release on one host's console is what the other shows. Runs when
/// `WARDEN_TEST_POSTGRES` names a server (`make test` starts a private one).
@Suite(.serialized, .enabled(if: SharedDatabase.serverURL != nil, "needs WARDEN_TEST_POSTGRES (make test starts a private cluster)"))
struct SharedConsoleEndToEndTests {
    /// A `warden console` process and a logged-in curl session to it.
    final class Console {
        let process = Process()
        let base: String
        let jar: String
        let logPath: String

        init(host: DaemonUnderTest, config: String) throws {
            let port = 20_000 + Int.random(in: 0..<20_000)
            base = "http://127.0.0.1:\(port)"
            jar = host.root + "/cookies.txt"
            logPath = host.root + "/console.log"
            FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.executableURL = URL(fileURLWithPath: WardenBinary.path)
            process.arguments = ["console", "--config", config, "--state", host.state, "--rules", host.rules, "--listen", "127.0.0.1:\(port)"]
            process.standardOutput = log
            process.standardError = log
            try process.run()
        }

        deinit {
            if process.isRunning { process.terminate(); process.waitUntilExit() }
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        /// GET (or POST with `form`), following redirects; the page's body.
        @discardableResult
        func fetch(_ path: String, form: [String: String]? = nil) throws -> String {
            var arguments = ["-sS", "-L", "-c", jar, "-b", jar, base + path]
            for (key, value) in form ?? [:] { arguments += ["--data-urlencode", "\(key)=\(value)"] }
            let result = try runCapturingOutput("/usr/bin/curl", arguments)
            guard result.status == 0 else { throw DaemonTestError("curl \(path): \(result.output)") }
            return result.output
        }

        func waitUntilUp() -> Bool {
            for _ in 0..<200 {
                if (try? fetch("/healthz")) == "ok\n" { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }

        func login(_ name: String, password: String) throws {
            let page = try fetch("/login")
            let csrf = try #require(Self.hidden("csrf", in: page))
            let queue = try fetch("/login", form: ["csrf": csrf, "name": name, "password": password])
            guard queue.contains("Review queue") else { throw DaemonTestError("login as \(name) failed: \(queue.prefix(500))") }
        }

        /// The value of a hidden input of the page.
        static func hidden(_ name: String, in page: String) -> String? {
            guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(page[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    @Test func twoHostsConsolesWorkOneQueue() throws {
        let database = try SharedDatabase()
        let hosts = try (0..<2).map { _ in try DaemonUnderTest(rulesFixture: "escalation-rules") }
        let names = ["host-a", "host-b"]
        var configs: [String] = []
        for (host, name) in zip(hosts, names) {
            let config = host.root + "/warden.yaml"
            try "ledger: \(database.url)\ninstance: \(name)\n".write(toFile: config, atomically: true, encoding: .utf8)
            configs.append(config)
            try host.start(["--config", config])
        }
        defer { for host in hosts where host.isRunning { host.stop() } }

        // One user, added on host A, for every host's console.
        let added = try runCapturingOutput(WardenBinary.path, ["users", "add", "alice", "--role", "admin", "--config", configs[0], "--state", hosts[0].state])
        try #require(added.status == 0, "\(added.output)")
        let password = try #require(added.output.components(separatedBy: "password (shown once): ").last?.trimmingCharacters(in: .whitespacesAndNewlines))

        let consoles = try zip(hosts, configs).map { try Console(host: $0, config: $1) }
        for console in consoles { try #require(console.waitUntilUp(), "console did not start; log:\n\(console.log)") }
        for console in consoles { try console.login("alice", password: password) }

        try hosts[0].drop(id: "held-a", author: "u-a", text: "a badword from host A")
        try hosts[1].drop(id: "held-b", author: "u-b", text: "a badword from host B")
        let listed = hosts[0].eventually(timeout: 30) {
            consoles.allSatisfy { console in
                let page = (try? console.fetch("/")) ?? ""
                return page.contains("held-a") && page.contains("held-b")
            }
        }
        try #require(listed, "both hosts' held posts on both consoles; logs:\n\(consoles.map(\.log).joined(separator: "\n---\n"))")
        let queueOnA = try consoles[0].fetch("/")
        #expect(queueOnA.contains("host-a") && queueOnA.contains("host-b"), "each item names its instance")
        let rulesOnB = try consoles[1].fetch("/rules")
        #expect(rulesOnB.contains("host-a") && rulesOnB.contains("host-b") && !rulesOnB.contains("instances-disagree"),
                "both instances listed, same rules")

        // Host B's held post, released on host A's console.
        let item = try consoles[0].fetch("/item/held-b")
        #expect(item.contains("judged by instance <strong><bdi>host-b</bdi></strong>"))
        let csrf = try #require(Console.hidden("csrf", in: item))
        let version = try #require(Console.hidden("version", in: item))
        let after = try consoles[0].fetch("/item/held-b", form: [
            "csrf": csrf, "version": version, "verdict": "released", "reason_pick": "Not a violation", "reason_text": "", "message": "",
        ])
        #expect(after.contains("released held-b"), "\(after.prefix(2000))")
        let action = try #require(FileManager.default.contents(atPath: hosts[0].state + "/outbox/held-b.json"), "the action file is on host A, where alice acted")
        let object = try #require(try JSONSerialization.jsonObject(with: action) as? [String: Any])
        #expect(object["action"] as? String == "allow")
        // Host B's console shows it at once: out of the queue, and resolved by alice.
        let queueOnB = try consoles[1].fetch("/")
        #expect(!queueOnB.contains("held-b") && queueOnB.contains("held-a"))
        let itemOnB = try consoles[1].fetch("/item/held-b")
        #expect(itemOnB.contains("alice"), "\(itemOnB.prefix(2000))")
        #expect(Int(try database.query("SELECT COUNT(*) FROM reviews")) == 1)
    }
}
