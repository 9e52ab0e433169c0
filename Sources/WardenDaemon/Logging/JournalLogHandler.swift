import Foundation
import Logging

/// Writes log events to stderr in the form its reader understands.
///
/// - Under systemd (`JOURNAL_STREAM` names our stderr), one line per event: the `<N>` syslog
///   priority prefix that journald turns into PRIORITY= (so `journalctl -p warning` works),
///   then logfmt (`level=… msg="…" key=value`). No timestamp: journald adds its own.
/// - On a terminal, a readable line with the time and the level.
/// - Anywhere else (a file, a pipe), logfmt with a `ts=` field.
///
/// Every event is exactly one line: newlines and control characters in the message and in
/// values are escaped, so a multi-line error never splits into several journal entries.
/// The line is written with one `write(2)`, so lines from several threads never interleave.
public struct JournalLogHandler: LogHandler {
    public enum Format: String, Sendable {
        case journal, logfmt, console
    }

    /// Metadata keys whose values are a post's text (or a rewrite of it). A post's text may
    /// hold personal data (card numbers, passwords, addresses), and logs are kept and shipped
    /// with less care than the state directory: the handler prints only the text's length.
    /// Log the post id instead; the decision log has the rest.
    public static let withheldKeys: Set<String> = ["text", "post_text", "redacted_text"]

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    let format: Format
    let sink: @Sendable (String) -> Void

    public init(label: String, format: Format = JournalLogHandler.detectFormat(),
                sink: @escaping @Sendable (String) -> Void = JournalLogHandler.writeToStandardError) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error, merged["error"] == nil { merged["error"] = "\(error)" }
        sink(Self.render(level: event.level, message: event.message.description, metadata: merged, format: format, date: Date()))
    }

    /// The whole line for one event, newline included.
    public static func render(level: Logger.Level, message: String, metadata: Logger.Metadata, format: Format, date: Date) -> String {
        let fields = metadata.sorted { $0.key < $1.key }.map { (key, value) in
            (Logfmt.key(key), withheldKeys.contains(key) ? withheld(value) : flatten(value))
        }
        switch format {
        case .journal:
            var line = "<\(priority(level))>level=\(level.rawValue) msg=\(Logfmt.value(message))"
            for (key, value) in fields { line += " \(key)=\(Logfmt.value(value))" }
            return line + "\n"
        case .logfmt:
            var line = "ts=\(timestamp(date)) level=\(level.rawValue) msg=\(Logfmt.value(message))"
            for (key, value) in fields { line += " \(key)=\(Logfmt.value(value))" }
            return line + "\n"
        case .console:
            var line = "\(timestamp(date)) \(level.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) \(Logfmt.escapeControls(message))"
            if !fields.isEmpty { line += "  " + fields.map { "\($0.0)=\(Logfmt.value($0.1))" }.joined(separator: " ") }
            return line + "\n"
        }
    }

    /// syslog(3) priorities, as journald reads them from the `<N>` prefix.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// `journal` when stderr is the stream systemd connected to the journal (JOURNAL_STREAM
    /// holds its device:inode, as sd_journal_stream_fd(3) documents), `console` on a
    /// terminal, else `logfmt`. Comparing the inode, not just the variable's presence, keeps
    /// `warden … 2>file` run from a unit's shell from writing priority prefixes into a file.
    public static func detectFormat(environment: [String: String] = ProcessInfo.processInfo.environment,
                                    descriptor: Int32 = 2) -> Format {
        if let stream = environment["JOURNAL_STREAM"] {
            let parts = stream.split(separator: ":")
            var status = stat()
            if parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]),
                fstat(descriptor, &status) == 0, UInt64(status.st_dev) == device, UInt64(status.st_ino) == inode
            {
                return .journal
            }
        }
        return isatty(descriptor) != 0 ? .console : .logfmt
    }

    /// One `write(2)` per line (more only if the kernel takes part of it), never buffered.
    @Sendable public static func writeToStandardError(_ line: String) {
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(2, base + offset, raw.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }  // stderr closed or full: a log line is not worth blocking for
            offset += written
        }
    }

    private static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(flatten).joined(separator: ",")
        case .dictionary(let entries): return entries.sorted { $0.key < $1.key }.map { "\($0.key):\(flatten($0.value))" }.joined(separator: ",")
        }
    }

    private static func withheld(_ value: Logger.Metadata.Value) -> String {
        "(withheld: \(flatten(value).unicodeScalars.count) characters)"
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// logfmt encoding (as read by Loki, Vector, Grafana, `hl`…): `key=value`, and a value with
/// a space, `=`, a quote, a backslash, a control character or nothing at all goes in double
/// quotes with `\"`, `\\`, `\n`, `\r`, `\t` and `\u00XX` escapes.
public enum Logfmt {
    public static func value(_ text: String) -> String {
        let needsQuotes = text.isEmpty || text.unicodeScalars.contains { scalar in
            scalar == " " || scalar == "=" || scalar == "\"" || scalar == "\\" || isControl(scalar)
        }
        guard needsQuotes else { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out += escapeControl(scalar)
            }
        }
        return out + "\""
    }

    /// A key made of letters, digits, `_`, `.` and `-`; anything else becomes `_`.
    public static func key(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.-".unicodeScalars.contains(scalar)) ? scalar : "_"
        }))
        return cleaned.isEmpty ? "_" : cleaned
    }

    /// Escapes newlines and other control characters only (for the console form).
    public static func escapeControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return text.unicodeScalars.map(escapeControl).joined()
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{85}"
    }

    private static func escapeControl(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            guard isControl(scalar) else { return String(scalar) }
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }
}
