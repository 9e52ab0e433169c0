import Foundation
import Logging
import Testing
@testable import WardenDaemon

@Suite("log lines for journald and terminals")
struct JournalLogHandlerTests {
    let date = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func journalLinesStartWithTheSyslogPriority(level: Logger.Level, priority: Int) {
        let line = JournalLogHandler.render(level: level, message: "m", metadata: [:], format: .journal, date: date)
        #expect(line == "<\(priority)>level=\(level.rawValue) msg=m\n")
    }

    @Test func journalLinesCarryNoTimestampAndQuoteValues() {
        let line = JournalLogHandler.render(
            level: .notice, message: "warden is running",
            metadata: ["rules": "/etc/warden/rules.d", "ruleset": "sha256:ab", "empty": "", "eq": "a=b"],
            format: .journal, date: date)
        #expect(line == "<5>level=notice msg=\"warden is running\" empty=\"\" eq=\"a=b\" rules=/etc/warden/rules.d ruleset=sha256:ab\n")
        #expect(!line.contains("2027"))
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("two words", "\"two words\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("back\\slash", "\"back\\\\slash\""),
        ("line one\nline two", "\"line one\\nline two\""),
        ("cr\rtab\t", "\"cr\\rtab\\t\""),
        ("bell\u{07}", "\"bell\\u0007\""),
        ("", "\"\""),
        ("café", "café"),
    ])
    func logfmtQuoting(raw: String, encoded: String) {
        #expect(Logfmt.value(raw) == encoded)
    }

    @Test func everyEventIsOneLineWhateverTheMessage() {
        for format in [JournalLogHandler.Format.journal, .logfmt, .console] {
            let line = JournalLogHandler.render(
                level: .error, message: "rules refused:\nprofanity.yaml:3:1: error\r\nspam.yaml:9:2: error",
                metadata: ["error": "a\nb"], format: format, date: date)
            #expect(line.filter { $0 == "\n" || $0 == "\r\n" }.count == 1, "\(format): \(line)")
            #expect(line.hasSuffix("\n"))
        }
    }

    @Test func keysAreSanitised() {
        #expect(Logfmt.key("rule id") == "rule_id")
        #expect(Logfmt.key("a=b") == "a_b")
        #expect(Logfmt.key("") == "_")
    }

    @Test func aPostsTextIsNeverWritten() {
        for format in [JournalLogHandler.Format.journal, .logfmt, .console] {
            let line = JournalLogHandler.render(
                level: .info, message: "post acted on",
                metadata: ["post": "fb-1", "text": "my card is 4111 1111 1111 1111", "redacted_text": "my card is ****"],
                format: format, date: date)
            #expect(!line.contains("4111"))
            #expect(!line.contains("my card"))
            #expect(line.contains("fb-1"))
            #expect(line.contains("withheld: 30 characters"))
        }
    }

    @Test func logfmtAndConsoleCarryATime() {
        let logfmt = JournalLogHandler.render(level: .info, message: "m", metadata: [:], format: .logfmt, date: date)
        #expect(logfmt.hasPrefix("ts=2027-01-15T08:00:00.000Z level=info msg=m"))
        let console = JournalLogHandler.render(level: .warning, message: "m", metadata: ["k": "v w"], format: .console, date: date)
        #expect(console == "2027-01-15T08:00:00.000Z WARNING  m  k=\"v w\"\n")
    }

    @Test func journalFormatOnlyWhenJournalStreamIsOurStderr() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-log-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        var status = stat()
        #expect(fstat(fd, &status) == 0)
        let matching = "\(status.st_dev):\(status.st_ino)"
        #expect(JournalLogHandler.detectFormat(environment: ["JOURNAL_STREAM": matching], descriptor: fd) == .journal)
        #expect(JournalLogHandler.detectFormat(environment: ["JOURNAL_STREAM": "1:2"], descriptor: fd) == .logfmt)
        #expect(JournalLogHandler.detectFormat(environment: [:], descriptor: fd) == .logfmt)
    }

    @Test func theHandlerMergesMetadataAndWritesOneLine() {
        let lines = Locked<[String]>([])
        var logger = Logger(label: "warden") { label in
            JournalLogHandler(label: label, format: .journal) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "version"] = "1.0"
        logger.logLevel = .debug
        logger.warning("refused", metadata: ["reason": "bad rule"])
        logger.trace("not shown")
        #expect(lines.withLock { $0 } == ["<4>level=warning msg=refused reason=\"bad rule\" version=1.0\n"])
    }
}
