import Foundation
import Glibc
import Testing
@testable import WardenCore
@testable import WardenDaemon

@Suite struct PipelineTests {
    /// The prune holds every shard in turn; a worker must not take a shard's queued job
    /// while the prune holds that shard (it did: the shard was already listed as ready, and
    /// a soak with a prune a minute crashed in `AuthorBook.lookUp` within two minutes).
    @Test func aShardHeldByThePruneIsNotTakenUntilReleased() throws {
        let queue = AuthorOrderedQueue<Int>(shards: 2)
        queue.push(7, shard: 0)
        let entered = DispatchSemaphore(value: 0)
        let leave = DispatchSemaphore(value: 0)
        let pruning = Locked(false)
        let pruneDone = DispatchSemaphore(value: 0)
        Thread {
            queue.withAllBooks { book in
                guard book === queue.books[0] else { return }
                pruning.withLock { $0 = true }
                entered.signal()
                leave.wait()
                pruning.withLock { $0 = false }
            }
            pruneDone.signal()
        }.start()
        entered.wait()
        let taken = Locked<(shard: Int, job: Int, duringPrune: Bool)?>(nil)
        let tookIt = DispatchSemaphore(value: 0)
        Thread {
            if let (shard, job) = queue.take() {
                taken.withLock { $0 = (shard, job, pruning.current) }
                queue.release(shard: shard)
            }
            tookIt.signal()
        }.start()
        #expect(tookIt.wait(timeout: .now() + 0.3) == .timedOut, "a worker took the shard while the prune held it")
        leave.signal()
        pruneDone.wait()
        #expect(tookIt.wait(timeout: .now() + 5) == .success, "the job was lost after the prune released the shard")
        let result = taken.current
        #expect(result?.shard == 0 && result?.job == 7)
        #expect(result?.duringPrune == false)
        // The shard was listed twice (before the prune and at its release): one job, taken once.
        #expect(queue.count == 0)
        queue.close()
        #expect(queue.take() == nil)
    }

    @Test func eachAuthorsJobsRunInOrderAcrossWorkers() async throws {
        let queue = AuthorOrderedQueue<Int>(shards: 8)
        let seen = Locked<[String: [Int]]>([:])
        let authors = (0..<20).map { "author-\($0)" }
        for sequence in 0..<2_000 {
            let author = authors[sequence % authors.count]
            queue.push(sequence, shard: queue.shard(of: author))
        }
        queue.close()
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread {
                while let (shard, job) = queue.take() {
                    let author = authors[job % authors.count]
                    #expect(queue.shard(of: author) == shard)
                    seen.withLock { $0[author, default: []].append(job) }
                    queue.release(shard: shard)
                }
                group.leave()
            }.start()
        }
        group.wait()
        let result = seen.current
        #expect(result.values.reduce(0) { $0 + $1.count } == 2_000)
        for (_, jobs) in result { #expect(jobs == jobs.sorted()) }
    }

    @Test func decisionLogRotatesBySizeAndKeepsTheNewestFiles() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/decisions.jsonl"
        let log = try DecisionLog(path: path, maxBytes: 100, keep: 2)
        for index in 0..<20 {
            try log.append([Array("{\"post_id\":\"p\(index)\",\"action\":\"allow\"}".utf8)])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["decisions.jsonl", "decisions.jsonl.1", "decisions.jsonl.2"])
        let all = try [path, path + ".1"].map { try String(contentsOfFile: $0, encoding: .utf8) }.joined()
        #expect(all.contains("\"p19\""))
        #expect(all.split(separator: "\n").allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") })
    }

    @Test func configurationFileIsReadAndBadValuesAreNamed() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/warden.yaml"
        try """
            organisation: { name: Example Council, contact: our page }
            workers: 3
            metrics: 127.0.0.1:9464
            limits: { max_file_bytes: 2048 }
            retention: { done: 7d, history: 1h }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try DaemonConfiguration.load(file: path)
        #expect(configuration.organisation.name == "Example Council")
        #expect(configuration.workers == 3)
        #expect(configuration.metricsAddress == "127.0.0.1:9464")
        #expect(configuration.limits.maxFileBytes == 2048)
        #expect(configuration.doneRetention == TimeInterval(7 * 86_400))
        #expect(configuration.historyWindow == 3600)

        try "retention: { done: soon }\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try DaemonConfiguration.load(file: path) } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("retention.done")
        }
    }

    @Test(arguments: ["/tmp/warden-notify-test-\(getpid()).sock", "@warden-notify-test-\(getpid())"])
    func notifierSendsDatagramsToPathAndAbstractSockets(address: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 } else { unlink(address) }
        withUnsafeMutableBytes(of: &addr.sun_path) { for (i, b) in bytes.enumerated() { $0[i] = b } }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + bytes.count + (bytes[0] == 0 ? 0 : 1))
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        #expect(bound == 0)
        defer { if bytes[0] != 0 { unlink(address) } }

        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000"])
        #expect(notifier.watchdogInterval == .seconds(1))
        notifier.ready(status: "Ready")
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(count > 0)
        #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "READY=1\nSTATUS=Ready")
    }
}

@Suite struct DecisionLogRecoveryTests {
    @Test func aTornLastLineIsCutOffAtStartUp() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/decisions.jsonl"
        try Data("{\"post_id\":\"a\"}\n{\"post_id\":\"b\"}\n{\"post_id\":\"c".utf8).write(to: URL(fileURLWithPath: path))
        let log = try DecisionLog(path: path, maxBytes: 1 << 20, keep: 2)
        try log.append([Array("{\"post_id\":\"c\"}".utf8)])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"post_id\":\"a\"}\n{\"post_id\":\"b\"}\n{\"post_id\":\"c\"}\n")
    }
}
