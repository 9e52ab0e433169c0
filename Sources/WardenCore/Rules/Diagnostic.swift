/// One problem found in a rules directory, located precisely enough to jump to it.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var location: SourceLocation
    public var message: String
    public var severity: Severity

    public init(_ location: SourceLocation, _ message: String, severity: Severity = .error) {
        self.location = location
        self.message = message
        self.severity = severity
    }

    public var file: String { location.file }
    public var line: Int { location.line }
    public var column: Int { location.column }

    /// `file:line:column: error: message`, the form editors and CI annotate.
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// A rules directory that does not validate: every problem at once, so a moderator fixes them in one go.
public struct RuleLoadError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) {
        // In file order, as an editor lists them.
        self.diagnostics = diagnostics.enumerated().sorted { a, b in
            let l = a.element.location, r = b.element.location
            if l.file != r.file { return l.file < r.file }
            if l.line != r.line { return l.line < r.line }
            if l.column != r.column { return l.column < r.column }
            return a.offset < b.offset
        }.map(\.element)
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String {
        let errorCount = errors.count
        return diagnostics.map(\.description).joined(separator: "\n")
            + "\n\(errorCount) error\(errorCount == 1 ? "" : "s") in the rules; the rules were not loaded."
    }
}
