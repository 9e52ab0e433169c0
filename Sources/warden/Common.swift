import ArgumentParser
import Foundation
import Logging
import WardenCore
import WardenDaemon

/// How a command reports: `text` for people, `json` for scripts.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Exit codes shared by the commands (docs/OPS.md, "Exit codes"). Scripts tell "the
/// decisions change" (1) from "the rules are broken" (3), and systemd stops restarting on
/// a configuration error (78, EX_CONFIG, in the unit's RestartPreventExitStatus=).
enum ExitStatus {
    /// The command's own finding: decisions change (`diff`), failing examples (`test`).
    static let findings = ExitCode(1)
    /// Usage or input error: bad flag, missing file, invalid input lines, unknown name.
    static let inputError = ExitCode(2)
    /// The rules do not validate.
    static let invalidRules = ExitCode(3)
    /// warden.yaml missing or invalid (sysexits.h EX_CONFIG).
    static let configError = ExitCode(78)
}

/// Loads rules or prints every diagnostic and exits 3 (invalid rules) or 2 (no such directory).
/// `WARDEN_PCRE2_JIT=0` (JIT off) and `WARDEN_PLAN=ungated` (no pre-filter), read here and
/// passed to the core, which never reads the environment; scripts and fuzzers set them.
func matchingOptionsFromEnvironment() -> MatchingOptions {
    let environment = ProcessInfo.processInfo.environment
    return MatchingOptions(jit: environment["WARDEN_PCRE2_JIT"] != "0", gatePatterns: environment["WARDEN_PLAN"] != "ungated",
                           logger: Logger(label: "warden.pcre2"))
}

func loadRules(_ directory: String, runExamples: Bool, format: OutputFormat = .text) throws -> RuleSet {
    try loadRulesWithOrigins(directory, runExamples: runExamples, format: format).ruleSet
}

/// As `loadRules`, with where each rule came from when `directory` is SHIPPED:LOCAL.
func loadRulesWithOrigins(_ directory: String, runExamples: Bool, format: OutputFormat = .text) throws -> (ruleSet: RuleSet, overlay: RuleOverlay.Loaded?) {
    do {
        if let overlay = RuleOverlay(path: directory) {
            let loaded = try overlay.load(runExamples: runExamples, options: matchingOptionsFromEnvironment())
            return (loaded.ruleSet, loaded)
        }
        return (try RuleLoader.load(directory: directory, runExamples: runExamples, options: matchingOptionsFromEnvironment()), nil)
    } catch {
        let missing = !FileManager.default.fileExists(atPath: RuleOverlay(path: directory)?.shipped ?? directory)
        if format == .json {
            var w = JSONWriter()
            w.beginObject()
            w.key("ok"); w.bool(false)
            w.key("diagnostics"); writeDiagnostics(error.diagnostics, to: &w)
            w.endObject()
            Output.standard.write(w.bytes + [0x0A])
            Output.standard.flush()
        } else {
            Output.error(error.description)
        }
        throw missing ? ExitStatus.inputError : ExitStatus.invalidRules
    }
}

func writeDiagnostics(_ diagnostics: [Diagnostic], to w: inout JSONWriter) {
    w.beginArray()
    for diagnostic in diagnostics {
        w.beginObject()
        w.key("file"); w.string(diagnostic.file)
        w.key("line"); w.int(diagnostic.line)
        w.key("column"); w.int(diagnostic.column)
        w.key("severity"); w.string(diagnostic.severity.rawValue)
        w.key("message"); w.string(diagnostic.message)
        w.endObject()
    }
    w.endArray()
}

/// Buffered output: `scan` writes a line per post, and unbuffered writes cost a syscall each.
final class Output {
    /// The CLI writes stdout from one thread only, so the shared buffer needs no lock.
    nonisolated(unsafe) static let standard = Output(fd: 1)
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func line(_ text: String) { write(Array(text.utf8) + [0x0A]) }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                break  // EPIPE: the reader went away (e.g. `| head`); nothing useful left to do.
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes a line to stderr at once.
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static var isTerminal: Bool { isatty(1) != 0 }
}

/// Reads JSON Lines from a file or stdin in large blocks, handing out one line at a time.
struct LineSource {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private(set) var lineNumber = 0
    private(set) var bytesRead = 0

    /// Opens `path`, or stdin for nil or "-".
    init(path: String?) throws {
        if let path, path != "-" {
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else {
                Output.error("warden: cannot open \(path): \(String(cString: strerror(errno)))")
                throw ExitStatus.inputError
            }
            fd = opened
        } else {
            fd = 0
        }
    }

    /// The next line (without its newline), or nil at the end.
    mutating func next(_ body: (Int, UnsafeRawBufferPointer) -> Void) -> Bool {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                buffer.withUnsafeBytes { raw in
                    var end = newline
                    if end > start && raw[end - 1] == 0x0D { end -= 1 }
                    body(lineNumber, UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                }
                start = newline + 1
                return true
            }
            if eof {
                guard start < buffer.count else { return false }
                lineNumber += 1
                buffer.withUnsafeBytes { raw in body(lineNumber, UnsafeRawBufferPointer(rebasing: raw[start..<raw.count])) }
                start = buffer.count
                return true
            }
            buffer.removeSubrange(0..<start)
            start = 0
            let chunk = 1 << 20
            let oldCount = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: chunk))
            let got = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + oldCount, chunk) }
            if got < 0 && errno == EINTR {
                buffer.removeSubrange(oldCount...)
                continue
            }
            if got <= 0 {
                buffer.removeSubrange(oldCount...)
                eof = true
            } else {
                bytesRead += got
                buffer.removeSubrange((oldCount + got)...)
            }
        }
    }
}

/// ANSI styling for terminals; plain text when output is piped.
enum Style {
    static var enabled: Bool { Output.isTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
    static func bold(_ s: String) -> String { enabled ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    static func red(_ s: String) -> String { enabled ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    static func green(_ s: String) -> String { enabled ? "\u{1B}[32m\(s)\u{1B}[0m" : s }
    static func yellow(_ s: String) -> String { enabled ? "\u{1B}[33m\(s)\u{1B}[0m" : s }
    static func highlight(_ s: String) -> String { enabled ? "\u{1B}[1;4;31m\(s)\u{1B}[0m" : "[\(s)]" }
}
