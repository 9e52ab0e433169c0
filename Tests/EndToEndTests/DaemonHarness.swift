import Foundation
import Glibc

/// The `warden` binary under test: $WARDEN_BIN, else this checkout's debug build.
enum WardenBinary {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var path: String {
        if let path = ProcessInfo.processInfo.environment["WARDEN_BIN"], !path.isEmpty { return path }
        return repositoryRoot + "/.build/debug/warden"
    }
}

/// Runs a program to completion and returns its status and its stdout and stderr together.
func runCapturingOutput(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Receives sd_notify datagrams on a socket the test binds, as systemd would.
final class NotifyListener {
    let path: String
    private let fd: Int32
    private(set) var messages: [String] = []

    init(path: String) {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { for (i, b) in bytes.enumerated() { $0[i] = b } }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    private var cursor = 0

    /// Waits for the next message satisfying `predicate`, after the one the previous wait
    /// returned, so that consecutive waits read the daemon's messages in order.
    @discardableResult
    func wait(timeout: TimeInterval = 20, for predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            drain(waitMilliseconds: 50)
            if let index = messages[cursor...].firstIndex(where: predicate) {
                cursor = index + 1
                return messages[index]
            }
        } while Date() < deadline
        return nil
    }

    func drain(waitMilliseconds: Int32 = 0) {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var timeout = waitMilliseconds
        while poll(&descriptor, 1, timeout) > 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count <= 0 { break }
            messages.append(String(decoding: buffer.prefix(count), as: UTF8.self))
            timeout = 0
        }
    }
}

/// A `warden run` process on a temporary spool, with its own copy of the rules: the one
/// end-to-end harness for the daemon. Options cover what the bad-input cases need: running
/// as another user (a post the daemon may not read) and a spool on a small tmpfs of its own
/// (a full disk).
final class DaemonUnderTest {
    let root: String
    let rules: String
    var state: String { root + "/var" }
    var inbox: String { state + "/inbox" }
    let notify: NotifyListener
    private(set) var process: Process?
    var logPath: String { root + "/daemon.log" }
    let metricsPort: Int
    private var mounted = false
    /// Run the daemon with this uid and gid (through setpriv), instead of the test's.
    let user: (uid: uid_t, gid: gid_t)?

    init(rulesFixture: String = "daemon-rules", user: (uid: uid_t, gid: gid_t)? = nil, tmpfsBytes: Int? = nil) throws {
        self.user = user
        root = "/tmp/warden-e2e-\(UUID().uuidString.prefix(8))"
        rules = root + "/rules"
        let state = root + "/var"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: WardenBinary.repositoryRoot + "/Tests/Fixtures/" + rulesFixture, toPath: rules)
        if let tmpfsBytes {
            guard Tmpfs.mount(at: state, bytes: tmpfsBytes) else { throw DaemonTestError("cannot mount a tmpfs at \(state)") }
            mounted = true
        }
        for directory in ["inbox", "processing", "outbox", "done", "failed", "state"] {
            try FileManager.default.createDirectory(atPath: state + "/" + directory, withIntermediateDirectories: true)
        }
        notify = NotifyListener(path: root + "/notify.sock")
        metricsPort = 20_000 + Int.random(in: 0..<20_000)
        if let user {
            // The daemon owns its spool, as under systemd; the test (root) still writes as producer.
            let spool = ["", "/inbox", "/processing", "/outbox", "/done", "/failed", "/state"].map { state + $0 }
            for path in [root, rules, rules + "/wordlists"] + spool { _ = chown(path, user.uid, user.gid) }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: rules)) ?? [] { _ = chown(rules + "/" + name, user.uid, user.gid) }
            chmod(notify.path, 0o777)
        }
    }

    deinit {
        if let process, process.isRunning { process.terminate(); process.waitUntilExit() }
        if mounted { Tmpfs.unmount(state) }
        try? FileManager.default.removeItem(atPath: root)
    }

    func start(_ extraArguments: [String] = [], environment extra: [String: String] = [:], waitForReady: Bool = true) throws {
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
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        if waitForReady {
            guard notify.wait(for: { $0.contains("READY=1") }) != nil else {
                throw DaemonTestError("warden did not send READY=1 within 20 s; log:\n\(self.log)")
            }
        }
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// SIGTERM, then waits for the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let process else { return -1 }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    func signal(_ number: Int32) {
        if let process { kill(process.processIdentifier, number) }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Writes a post as a producer must: a dot-file in the inbox, then rename.
    func drop(id: String, author: String = "u1", text: String, createdAt: String? = nil, name: String? = nil) throws {
        var object: [String: Any] = ["id": id, "author": ["id": author, "name": "Gemma"], "text": text]
        if let createdAt { object["created_at"] = createdAt }
        try dropRaw(name: name ?? id + ".json", bytes: try JSONSerialization.data(withJSONObject: object))
    }

    func dropRaw(name: String, bytes: Data) throws {
        let temporary = inbox + "/." + name + ".tmp"
        try bytes.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, inbox + "/" + name) == 0 else {
            throw DaemonTestError("rename into inbox failed: \(String(cString: strerror(errno)))")
        }
    }

    func drop(name: String, bytes: [UInt8]) throws {
        try dropRaw(name: name, bytes: Data(bytes))
    }

    /// A post written by hand rather than through JSONSerialization, so that `text` can
    /// carry raw JSON escapes the bad-input cases need.
    func dropPost(id: String, author: String = "u1", text: String, name: String? = nil) throws {
        try drop(name: name ?? id + ".json", bytes: Array(#"{"id":"\#(id)","author":{"id":"\#(author)","name":"Gemma"},"text":"\#(text)"}"#.utf8))
    }

    func contents(_ relativePath: String) -> String? {
        guard let data = FileManager.default.contents(atPath: state + "/" + relativePath) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state + "/" + directory)) ?? []).sorted()
    }

    func actionFile(_ postID: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: state + "/outbox/" + postID + ".json") else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// Polls until `condition` holds or the timeout passes.
    func eventually(timeout: TimeInterval = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// Runs another warden subcommand (strikes, pardon) against this spool.
    func warden(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runCapturingOutput(WardenBinary.path, arguments)
    }

    /// GET on the metrics listener, over a plain socket.
    func httpGet(_ path: String) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(metricsPort).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer.prefix(count)
        }
        return String(decoding: response, as: UTF8.self)
    }
}

struct DaemonTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
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
