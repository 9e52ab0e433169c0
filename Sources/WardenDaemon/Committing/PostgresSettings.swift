import Foundation

/// Where a shared PostgreSQL ledger is (`ledger: postgres://…` in warden.yaml), parsed and
/// checked when the configuration is read, so a typo is a `FILE:LINE:COLUMN` error at start.
///
/// The URL never carries the password (it would be printed by `warden config` and kept in
/// shell histories): it comes from `ledger_password_file` or the environment variable
/// `WARDEN_LEDGER_PASSWORD`, which the CLI reads and passes in (`password`).
///
/// Forms, as libpq reads them:
/// - `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]` over TCP;
/// - `postgres://USER@/DATABASE?host=/run/postgresql[&port=5432]` over the Unix socket in
///   that directory (`.s.PGSQL.PORT`), as Debian's server listens by default.
public struct PostgresSettings: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, CaseIterable { case disable, prefer, require }

    public var user: String
    public var database: String
    /// TCP host, or nil with `socketDirectory` set.
    public var host: String?
    public var port = 5432
    public var socketDirectory: String?
    public var tls = TLSMode.prefer
    /// A file holding the password (its first line), e.g. `/etc/warden/ledger-password`, mode 0600.
    public var passwordFile: String?
    /// From the environment (`WARDEN_LEDGER_PASSWORD`), set by the CLI; never printed.
    public var password: Secret?

    /// The socket file postgres-nio connects to.
    public var socketPath: String? { socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } }

    /// The URL without any secret, for logs and `warden config`.
    public var description: String {
        if let socketDirectory { return "postgres://\(user)@/\(database)?host=\(socketDirectory)&port=\(port)" }
        return "postgres://\(user)@\(host ?? "localhost"):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    /// Parses a `postgres://` or `postgresql://` URL; the error is a sentence for the config diagnostic.
    public static func parse(_ text: String) -> Result<PostgresSettings, ConfigurationProblem> {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            return .failure(.init("\"\(text)\" is not a postgres:// URL; write e.g. postgres://warden@db.example.org/warden or postgres://warden@/warden?host=/run/postgresql"))
        }
        if components.password != nil {
            return .failure(.init("the ledger URL must not contain a password (it would be printed and logged); put it in a file named by ledger_password_file, or in WARDEN_LEDGER_PASSWORD"))
        }
        guard let user = components.user, !user.isEmpty else {
            return .failure(.init("the ledger URL names no user; write postgres://USER@HOST/DATABASE"))
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            return .failure(.init("the ledger URL names no database; write postgres://\(user)@HOST/DATABASE"))
        }
        var settings = PostgresSettings(user: user, database: database)
        if let host = components.host, !host.isEmpty { settings.host = host }
        if let port = components.port { settings.port = port }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "host":
                guard value.hasPrefix("/") else { return .failure(.init("host=\(value) in the ledger URL must be the directory of a Unix socket (absolute), e.g. /run/postgresql; a TCP host goes before the database: postgres://\(user)@\(value)/\(database)")) }
                settings.socketDirectory = value
            case "port":
                guard let port = Int(value), (1...65535).contains(port) else { return .failure(.init("port=\(value) in the ledger URL is not a port number")) }
                settings.port = port
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    return .failure(.init("sslmode=\(value) is not supported; use one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
                settings.tls = mode
            default:
                return .failure(.init("unknown parameter \"\(item.name)\" in the ledger URL; known: host, port, sslmode"))
            }
        }
        if settings.host == nil && settings.socketDirectory == nil {
            return .failure(.init("the ledger URL names no host; write postgres://\(user)@HOST/\(database), or ?host=/run/postgresql for the local socket"))
        }
        if settings.host != nil && settings.socketDirectory != nil {
            return .failure(.init("the ledger URL names both a TCP host and a socket directory (?host=); keep one"))
        }
        return .success(settings)
    }

    /// The password to use: the file's first line if a file is named (an unreadable file is
    /// an error, not "no password"), else the environment's, else none (peer or trust auth).
    public func resolvedPassword() throws -> String? {
        guard let passwordFile else { return password?.value }
        guard let data = FileManager.default.contents(atPath: passwordFile) else {
            throw LedgerUsageError(message: "cannot read the ledger password file \(passwordFile) (ledger_password_file); check that it exists and the warden user may read it")
        }
        let text = String(decoding: data, as: UTF8.self)
        return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }
}

/// A password: prints as `***`, so a configuration dumped into a log line leaks nothing.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "***" }
    public var debugDescription: String { "***" }
}

/// One problem with a configuration value, before it is placed at its line and column.
public struct ConfigurationProblem: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
