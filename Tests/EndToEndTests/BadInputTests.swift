import Foundation
import Glibc
import Testing

/// One kind of bad input a producer (or an attacker with write access to the inbox) can
/// leave: how to make it, and what failed/NAME.error must say about it.
struct BadInput: Sendable, CustomTestStringConvertible {
    var label: String
    var name: String
    var reason: String
    var make: @Sendable (_ daemon: DaemonUnderTest) throws -> Void

    var testDescription: String { label }

    static func post(_ label: String, _ name: String, reason: String, _ text: String) -> BadInput {
        BadInput(label: label, name: name, reason: reason) { try $0.drop(name: name, bytes: Array(text.utf8)) }
    }

    static func bytes(_ label: String, _ name: String, reason: String, _ bytes: [UInt8]) -> BadInput {
        BadInput(label: label, name: name, reason: reason) { try $0.drop(name: name, bytes: bytes) }
    }

    static let deep = 100_000

    static let all: [BadInput] = [
        .bytes("empty file", "empty.json", reason: "empty", []),
        .bytes("file over the size limit (1 MiB)", "huge.json", reason: "over the limit",
               Array(#"{"id":"huge","author":{"id":"u1"},"text":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 1 << 20) + Array(#""}"#.utf8)),
        .bytes("invalid UTF-8", "latin1.json", reason: "UTF-8",
               Array(#"{"id":"latin1","author":{"id":"u1"},"text":"caf"#.utf8) + [0xE9, 0x20, 0xC3] + Array(#""}"#.utf8)),
        .bytes("NUL byte inside the text", "nul-text.json", reason: "control character 0x0",
               Array(#"{"id":"nul","author":{"id":"u1"},"text":"bad"#.utf8) + [0] + Array(#"word"}"#.utf8)),
        .bytes("NUL bytes only", "nul-only.json", reason: "must be a JSON object", [UInt8](repeating: 0, count: 4096)),
        .post("JSON nested 100,000 deep in an unknown field", "deep-field.json", reason: "nested more than",
              #"{"id":"deep","author":{"id":"u1"},"text":"badword","extra":"# + String(repeating: "[", count: deep) + String(repeating: "]", count: deep) + "}"),
        .post("JSON nested 100,000 deep at the top", "deep-top.json", reason: "must be a JSON object",
              String(repeating: "[", count: deep) + String(repeating: "]", count: deep)),
        .post("duplicate key", "duplicate.json", reason: "duplicate key",
              #"{"id":"dup","author":{"id":"u1"},"text":"fine","text":"badword"}"#),
        .post("duplicate author id", "duplicate-author.json", reason: "duplicate key",
              #"{"id":"dup2","author":{"id":"u1","id":"u2"},"text":"badword"}"#),
        .post("text of the wrong type", "wrong-text.json", reason: "\"text\" must be a string",
              #"{"id":"wrong1","author":{"id":"u1"},"text":5}"#),
        .post("author of the wrong type", "wrong-author.json", reason: "\"author\" must be an object",
              #"{"id":"wrong2","author":"u1","text":"badword"}"#),
        .post("id of the wrong type", "wrong-id.json", reason: "\"id\" must be a string",
              #"{"id":12,"author":{"id":"u1"},"text":"badword"}"#),
        .post("id with a slash", "slash.json", reason: "\"id\" must be",
              #"{"id":"a/b","author":{"id":"u1"},"text":"badword"}"#),
        .post("id of two dots", "dotdot.json", reason: "\"id\" must be",
              #"{"id":"..","author":{"id":"u1"},"text":"badword"}"#),
        .post("id climbing out of the spool", "climb.json", reason: "\"id\" must be",
              #"{"id":"../../../etc/cron.d/x","author":{"id":"u1"},"text":"badword"}"#),
        .post("missing text", "no-text.json", reason: "missing required field \"text\"",
              #"{"id":"notext","author":{"id":"u1"}}"#),
        BadInput(label: "symlink to /etc/passwd", name: "passwd.json", reason: "symbolic link") { daemon in
            guard symlink("/etc/passwd", daemon.inbox + "/passwd.json") == 0 else { throw DaemonTestError("symlink failed") }
        },
        BadInput(label: "FIFO", name: "fifo.json", reason: "FIFO") { daemon in
            guard mkfifo(daemon.inbox + "/fifo.json", 0o644) == 0 else { throw DaemonTestError("mkfifo failed") }
        },
        BadInput(label: "directory named like a post", name: "dir.json", reason: "directory") { daemon in
            guard mkdir(daemon.inbox + "/dir.json", 0o755) == 0 else { throw DaemonTestError("mkdir failed") }
            _ = FileManager.default.createFile(atPath: daemon.inbox + "/dir.json/inner.json", contents: Data("{}".utf8))
        },
    ]
}

/// Bad input on the real daemon: each case lands in failed/ beside NAME.error saying why,
/// the daemon stays up and keeps judging good posts, and nothing is lost.
/// Serialized: each case starts a daemon with two workers on a two-core machine.
@Suite(.serialized) struct BadInputTests {
    @Test(arguments: BadInput.all)
    func landsInFailedWithAReason(_ input: BadInput) throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        try input.make(daemon)
        try daemon.dropPost(id: "good-after", text: "a badword after the bad input")
        // The reason is written first, then the post is moved beside it (a kill in between
        // leaves it in processing/, to be judged again): wait for both.
        #expect(daemon.eventually { Set(daemon.files(in: "failed")).isSuperset(of: [input.name, input.name + ".error"]) },
                "failed/: \(daemon.files(in: "failed")); log:\n\(daemon.log)")
        let reason = daemon.contents("failed/" + input.name + ".error") ?? ""
        #expect(reason.contains(input.reason), "failed/\(input.name).error says: \(reason)")
        var info = stat()
        #expect(lstat(daemon.state + "/failed/" + input.name, &info) == 0, "the input itself is kept in failed/ beside its reason")
        #expect(!daemon.files(in: "inbox").contains(input.name) && !daemon.files(in: "processing").contains(input.name))
        #expect(!daemon.files(in: "done").contains(input.name), "in exactly one of done/ and failed/")
        #expect(daemon.eventually { daemon.files(in: "outbox").contains("good-after.json") }, "a good post after it is still judged")
        #expect(daemon.isRunning, "the daemon stays up")
        #expect(daemon.stop() == 0)
    }

    @Test func aSymlinkIsNeverFollowed() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        #expect(symlink("/etc/passwd", daemon.inbox + "/passwd.json") == 0)
        #expect(symlink("/etc/passwd", daemon.inbox + "/passwd.jsonl") == 0)
        // The reason is written first and the link moved at the batch's commit: wait for both.
        #expect(daemon.eventually { Set(daemon.files(in: "failed")).isSuperset(of: ["passwd.json", "passwd.json.error", "passwd.jsonl", "passwd.jsonl.error"]) })
        let passwd = (try? String(contentsOfFile: "/etc/passwd", encoding: .utf8)) ?? "root:x:0:0"
        let firstLine = String(passwd.split(separator: "\n").first ?? "root:x:0:0")
        for name in daemon.files(in: "failed") + daemon.files(in: "outbox") + daemon.files(in: "done") {
            var info = stat()
            lstat(daemon.state + "/failed/" + name, &info)
            if info.st_mode & S_IFMT == S_IFLNK { continue }  // the link itself, moved as it is
            let text = daemon.contents("failed/" + name) ?? daemon.contents("outbox/" + name) ?? ""
            #expect(!text.contains(firstLine), "\(name) holds the contents of /etc/passwd")
        }
        let decisions = daemon.contents("decisions.jsonl") ?? ""
        #expect(!decisions.contains(firstLine))
        #expect(!daemon.log.contains(firstLine), "the log never shows the link target's contents")
        var info = stat()
        #expect(lstat(daemon.state + "/failed/passwd.json", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
        #expect(daemon.stop() == 0)
    }

    /// A FIFO with no writer would block a plain open(2) for ever; one with a writer that
    /// never closes would block read(2). Neither may hold up the posts behind it.
    @Test func aFIFOWithAWriterDoesNotBlock() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        let path = daemon.inbox + "/.held.fifo"
        #expect(mkfifo(path, 0o644) == 0)
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        let writer = open(path, O_WRONLY | O_NONBLOCK)
        defer { close(writer); close(reader) }
        _ = write(writer, "{\"id\":", 6)
        #expect(rename(path, daemon.inbox + "/held.json") == 0)
        for index in 0..<20 { try daemon.dropPost(id: "after-\(index)", text: "badword \(index)") }
        #expect(daemon.eventually { daemon.files(in: "failed").contains("held.json.error") })
        #expect(daemon.eventually { (0..<20).allSatisfy { daemon.files(in: "outbox").contains("after-\($0).json") } },
                "posts behind the FIFO are judged; log:\n\(daemon.log)")
        #expect(daemon.stop() == 0)
    }

    /// A producer that takes a file back (or another claimer) between the inotify event and
    /// the claim: either the daemon got it first and it is in done/, or the producer did and
    /// it is nowhere, never an error and never failed/.
    @Test func aFileRemovedBetweenNoticeAndClaim() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        var takenBack: [String] = []
        var claimed: [String] = []
        for index in 0..<300 {
            let name = "race-\(index).json"
            try daemon.dropPost(id: "race-\(index)", author: "u\(index % 7)", text: "badword \(index)", name: name)
            if index % 3 != 0 { usleep(UInt32(index % 5) * 100) }
            if unlink(daemon.inbox + "/" + name) == 0 { takenBack.append(name) } else { claimed.append(name) }
        }
        try daemon.dropPost(id: "sentinel", text: "badword")
        #expect(daemon.eventually { daemon.files(in: "outbox").contains("sentinel.json") })
        #expect(daemon.eventually { daemon.files(in: "processing").isEmpty })
        let done = Set(daemon.files(in: "done"))
        #expect(claimed.allSatisfy { done.contains($0) }, "every file the daemon claimed first is in done/")
        #expect(takenBack.allSatisfy { !done.contains($0) }, "a file taken back is not judged")
        #expect(daemon.files(in: "failed").isEmpty, "a vanished file is not a failure: \(daemon.files(in: "failed"))")
        #expect(daemon.isRunning)
        #expect(daemon.stop() == 0)
        #expect(!daemon.log.contains("cannot claim"), "log:\n\(daemon.log)")
    }

    /// As root every file is readable, so the daemon runs as `nobody` through setpriv, as it
    /// would run as `warden` under systemd; as any other user it runs as that user.
    @Test(.enabled(if: getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "as root, dropping to nobody needs /usr/bin/setpriv (util-linux)"))
    func aPostTheDaemonMayNotRead() throws {
        let daemon = try DaemonUnderTest(user: getuid() == 0 ? (65_534, 65_534) : nil)
        try daemon.start()
        let temporary = daemon.inbox + "/.secret.json.tmp"
        try Data(#"{"id":"secret","author":{"id":"u1"},"text":"badword"}"#.utf8).write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0)
        #expect(rename(temporary, daemon.inbox + "/secret.json") == 0)
        try daemon.dropPost(id: "readable", text: "badword")
        #expect(daemon.eventually { daemon.files(in: "failed").contains("secret.json.error") }, "log:\n\(daemon.log)")
        #expect(daemon.contents("failed/secret.json.error")?.contains("permission denied") == true)
        #expect(daemon.eventually { daemon.files(in: "outbox").contains("readable.json") })
        #expect(daemon.isRunning)
        #expect(daemon.stop() == 0)
    }

    /// The disk fills up under the daemon: posts wait (in inbox/ or processing/, never
    /// failed/ and never lost), the daemon stays up and retries, and once space returns
    /// every post is judged. A tmpfs of 2 MiB is the spool's own filesystem.
    @Test(.enabled(if: Tmpfs.isAvailable, "needs root and permission to mount a tmpfs (mount -t tmpfs) in this container"))
    func aFullDiskDelaysPostsAndLosesNone() throws {
        let daemon = try DaemonUnderTest(tmpfsBytes: 2 << 20)
        try daemon.start()
        try daemon.dropPost(id: "before", text: "badword")
        #expect(daemon.eventually { daemon.files(in: "done").contains("before.json") })

        // Posts are written before the disk fills (producers write on the same filesystem,
        // then rename, which needs no space).
        let staging = daemon.state + "/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let names = (0..<40).map { "full-\($0).json" }
        for (index, name) in names.enumerated() {
            try Data(#"{"id":"full-\#(index)","author":{"id":"u\#(index % 5)"},"text":"badword \#(index)"}"#.utf8)
                .write(to: URL(fileURLWithPath: staging + "/" + name))
        }
        let filler = daemon.state + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let block = [UInt8](repeating: 0x55, count: 4096)
        while write(fd, block, block.count) > 0 {}
        #expect(errno == ENOSPC)
        close(fd)
        for name in names { #expect(rename(staging + "/" + name, daemon.inbox + "/" + name) == 0) }

        #expect(daemon.eventually(timeout: 20) { daemon.log.contains("cannot make a batch durable") }, "log:\n\(daemon.log)")
        sleep(2)
        let waiting = Set(daemon.files(in: "inbox") + daemon.files(in: "processing") + daemon.files(in: "done"))
        #expect(names.allSatisfy { waiting.contains($0) }, "every post is still in inbox/, processing/ or done/")
        #expect(daemon.files(in: "failed").isEmpty, "a full disk is not the post's fault: \(daemon.files(in: "failed"))")
        #expect(daemon.isRunning, "the daemon stays up on a full disk")

        unlink(filler)
        #expect(daemon.eventually(timeout: 30) { Set(daemon.files(in: "done")).isSuperset(of: names) },
                "posts are judged once space returns; inbox: \(daemon.files(in: "inbox")), processing: \(daemon.files(in: "processing")); log:\n\(daemon.log)")
        #expect(names.indices.allSatisfy { daemon.files(in: "outbox").contains("full-\($0).json") }, "and every action file is written")
        #expect(daemon.files(in: "outbox").allSatisfy { !$0.hasPrefix(".") }, "no temporaries left")
        let decisions = daemon.contents("decisions.jsonl") ?? ""
        #expect(decisions.hasSuffix("\n") && decisions.split(separator: "\n").allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") },
                "decisions.jsonl has no torn line after the failed appends")
        #expect(names.indices.allSatisfy { decisions.contains(#""post_id":"full-\#($0)""#) })
        try daemon.dropPost(id: "after", text: "badword")
        #expect(daemon.eventually { daemon.files(in: "outbox").contains("after.json") })
        #expect(daemon.stop() == 0)
    }

    /// An edit in the same batch as the version it replaces (here: one .jsonl file) leaves
    /// one action file, the latest. It used to wedge the committer for ever: both versions
    /// were written to the same temporary, and the second rename failed on every retry.
    @Test func aPostAndItsEditInOneBatch() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start()
        try daemon.drop(name: "edits.jsonl", bytes: Array("""
            {"id":"e1","author":{"id":"u1","name":"first"},"text":"badword"}
            {"id":"e1","author":{"id":"u1","name":"second"},"text":"worseword"}
            {"id":"e2","author":{"id":"u2"},"text":"badword"}
            {"id":"e2","author":{"id":"u2"},"text":"all fine now"}

            """.utf8))
        #expect(daemon.eventually { daemon.files(in: "done").contains("edits.jsonl") }, "log:\n\(daemon.log)")
        #expect(daemon.contents("outbox/e1.json")?.contains(#""name":"second""#) == true, "the latest version's action file")
        #expect(daemon.files(in: "outbox").filter { $0.hasPrefix("e2") }.isEmpty, "the allowed edit leaves no action file")
        try daemon.dropPost(id: "after", text: "badword")
        #expect(daemon.eventually { daemon.files(in: "outbox").contains("after.json") }, "the committer is not wedged")
        #expect(daemon.stop() == 0)
    }
}
