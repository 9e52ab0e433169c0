import Foundation
import Glibc

/// A `warden run` process for the bad-input tests: like `DaemonUnderTest`, plus what those
/// cases need — running as another user (a post the daemon may not read) and a spool on a
/// small tmpfs of its own (a full disk).
final class BadInputDaemon {
    let root: String
    let rules: String
    var state: String { root + "/var" }
    var inbox: String { state + "/inbox" }
    var logPath: String { root + "/daemon.log" }
    let notify: NotifyListener
    private(set) var process: Process?
    private var mounted = false
    /// Run the daemon with this uid and gid (through setpriv), instead of the test's.
    let user: (uid: uid_t, gid: gid_t)?

    init(user: (uid: uid_t, gid: gid_t)? = nil, tmpfsBytes: Int? = nil) throws {
        self.user = user
        let root = "/tmp/warden-badinput-\(UUID().uuidString.prefix(8))"
        let state = root + "/var"
        self.root = root
        rules = root + "/rules"
        try FileManager.default.createDirectory(atPath: root + "/var", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: WardenBinary.repositoryRoot + "/Tests/Fixtures/daemon-rules", toPath: rules)
        if let tmpfsBytes {
            guard Tmpfs.mount(at: state, bytes: tmpfsBytes) else { throw DaemonTestError("cannot mount a tmpfs at \(state)") }
            mounted = true
        }
        for directory in ["inbox", "processing", "outbox", "done", "failed", "state"] {
            try FileManager.default.createDirectory(atPath: state + "/" + directory, withIntermediateDirectories: true)
        }
        notify = NotifyListener(path: root + "/notify.sock")
        if let user {
            // The daemon owns its spool, as under systemd; the test (root) still writes as producer.
            for path in [root, rules, rules + "/wordlists"] + ["", "/inbox", "/processing", "/outbox", "/done", "/failed", "/state"].map({ state + $0 }) {
                _ = chown(path, user.uid, user.gid)
            }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: rules)) ?? [] { _ = chown(rules + "/" + name, user.uid, user.gid) }
            chmod(notify.path, 0o777)
        }
    }

    deinit {
        if let process, process.isRunning { process.terminate(); process.waitUntilExit() }
        if mounted { Tmpfs.unmount(state) }
        try? FileManager.default.removeItem(atPath: root)
    }

    func start(extraArguments: [String] = []) throws {
        let process = Process()
        let arguments = ["run", "--rules", rules, "--state", state, "--workers", "2"] + extraArguments
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", WardenBinary.path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: WardenBinary.path)
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        process.environment = environment
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        guard notify.wait(for: { $0.contains("READY=1") }) != nil else {
            throw DaemonTestError("warden did not send READY=1 within 20 s; log:\n\(self.log)")
        }
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// SIGTERM, then the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let process else { return -1 }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A producer's rename into the inbox, from a dot-file beside it.
    func drop(name: String, bytes: [UInt8]) throws {
        let temporary = inbox + "/." + name + ".tmp"
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, inbox + "/" + name) == 0 else { throw DaemonTestError("rename into inbox failed: \(String(cString: strerror(errno)))") }
    }

    func dropPost(id: String, author: String = "u1", text: String, name: String? = nil) throws {
        try drop(name: name ?? id + ".json", bytes: Array(#"{"id":"\#(id)","author":{"id":"\#(author)","name":"Gemma"},"text":"\#(text)"}"#.utf8))
    }

    func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state + "/" + directory)) ?? []).sorted()
    }

    func contents(_ relativePath: String) -> String? {
        guard let data = FileManager.default.contents(atPath: state + "/" + relativePath) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    func eventually(timeout: TimeInterval = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

/// A small tmpfs of the test's own, for a disk that can really fill up. Needs root (or
/// CAP_SYS_ADMIN) and a kernel that lets this container mount; `isAvailable` says.
enum Tmpfs {
    static let isAvailable: Bool = {
        guard getuid() == 0 else { return false }
        let probe = "/tmp/warden-tmpfs-probe-\(getpid())"
        mkdir(probe, 0o755)
        defer { rmdir(probe) }
        guard mount(at: probe, bytes: 1 << 20) else { return false }
        unmount(probe)
        return true
    }()

    static func mount(at path: String, bytes: Int) -> Bool {
        run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0755", "tmpfs", path]) == 0
    }

    static func unmount(_ path: String) {
        _ = run("/bin/umount", [path])
    }

    private static func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
