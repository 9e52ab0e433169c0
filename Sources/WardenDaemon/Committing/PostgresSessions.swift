import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Connections to the shared ledger for the daemon's threads, which block (they are
/// threads, not tasks: see `Daemon`). A thread takes an idle connection, or opens one, and
/// waits on postgres-nio's futures; at most one connection per thread that uses the ledger
/// at once (the workers, the committer, the main thread): `workers + 2` per instance.
///
/// A connection that failed (server restarted, network gone) is closed and dropped, so the
/// next attempt opens a fresh one; callers retry with back-off (`Retry`).
public final class PostgresSessions: Sendable {
    public let settings: PostgresSettings
    private let logger: Logger
    private let idle = Locked<[PostgresConnection]>([])
    private let nextID = Locked<Int>(1)
    private let password: String?
    private let tls: PostgresConnection.Configuration.TLS

    public init(settings: PostgresSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        password = try settings.resolvedPassword()
        switch settings.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    private func connect() throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        if let socket = settings.socketPath {
            configuration = .init(unixSocketPath: socket, username: settings.user, password: password, database: settings.database)
        } else {
            configuration = .init(host: settings.host ?? "localhost", port: settings.port, username: settings.user, password: password,
                                  database: settings.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        let id = nextID.withLock { id in
            defer { id += 1 }
            return id
        }
        do {
            return try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                  id: id, logger: logger).wait()
        } catch {
            throw PostgresLedgerError(doing: "connect to \(settings)", error)
        }
    }

    /// Runs `body` on a connection of its own. On an error the connection is closed (a
    /// transaction may be left open on it), so it is never handed out half-used.
    @discardableResult
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        // An idle connection the server closed meanwhile (restart, failover) is dropped.
        var reused: PostgresConnection?
        while let candidate = idle.withLock({ $0.popLast() }) {
            if !candidate.isClosed { reused = candidate; break }
            try? candidate.close().wait()
        }
        let connection = try reused ?? connect()
        do {
            let result = try body(connection)
            if connection.isClosed { return result }
            idle.withLock { $0.append(connection) }
            return result
        } catch {
            try? connection.close().wait()
            throw error
        }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    @discardableResult
    public func withTransaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withConnection { connection in
            try connection.run("BEGIN", logger: logger)
            let result = try body(connection)
            try connection.run("COMMIT", logger: logger)
            return result
        }
    }

    /// Longer than any lock wait behind another host's judgement (milliseconds), short enough
    /// that an outage is noticed and reported.
    static let statementTimeout = TimeAmount.seconds(15)

    deinit { close() }

    /// Closes every idle connection (at shutdown; the debug build asserts connections are closed).
    public func close() {
        let connections = idle.withLock { list in
            defer { list = [] }
            return list
        }
        for connection in connections { try? connection.close().wait() }
    }

    public var queryLogger: Logger { logger }

    /// Brings the database's schema to the newest this warden knows (the ledger's and the
    /// review console's tables), or refuses a newer one: what the daemon does at start, for
    /// the console, which may start first.
    public func migrate() throws { try PostgresSchema.migrate(self) }
}

extension PostgresConnection {
    /// One statement, waited for; errors name the statement's first words, never its values.
    @discardableResult
    public func run(_ query: PostgresQuery, logger: Logger) throws -> PostgresQueryResult {
        do {
            // Waited for at most `statementTimeout`: a query on a connection whose server went
            // away was seen never to complete (the worker hung through a database outage,
            // found by SharedLedgerFaultTests). The caller then closes the connection and retries.
            let future = self.query(query, logger: logger)
            let promise = future.eventLoop.makePromise(of: PostgresQueryResult.self)
            let deadline = future.eventLoop.scheduleTask(in: PostgresSessions.statementTimeout) {
                promise.fail(PostgresLedgerError(doing: String(query.sql.prefix(60)), reason: "no answer within \(PostgresSessions.statementTimeout.nanoseconds / 1_000_000_000) s"))
            }
            future.whenComplete { _ in deadline.cancel() }
            future.cascade(to: promise)
            return try promise.futureResult.wait()
        } catch {
            throw PostgresLedgerError(doing: String(query.sql.prefix(60)), error)
        }
    }
}

/// A failure of the shared ledger as a sentence: what was being done and PostgreSQL's own
/// message (postgres-nio's errors print only a generic text on purpose, so the server's
/// message and SQLSTATE are taken out of it here; neither carries bound values).
public struct PostgresLedgerError: Error, Sendable, CustomStringConvertible {
    public var doing: String
    public var reason: String
    /// SQLSTATE, e.g. 40P01 deadlock; nil if the error did not come from the server.
    public var sqlState: String?

    init(doing: String, _ error: any Error) {
        self.doing = doing
        if let error = error as? PostgresLedgerError {
            reason = error.reason
            sqlState = error.sqlState
        } else if let error = error as? PSQLError {
            sqlState = error.serverInfo?[.sqlState]
            if let message = error.serverInfo?[.message] {
                reason = "\(message) (SQLSTATE \(sqlState ?? "?"))"
            } else {
                reason = "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
            }
        } else {
            reason = "\(error)"
        }
    }

    init(doing: String, reason: String) {
        self.doing = doing
        self.reason = reason
    }

    public var description: String { "PostgreSQL ledger: cannot \(doing): \(reason)" }
}
