import Foundation
import Logging
import WardenDaemon

/// Where the review console keeps what it persists: the index of the decision logs, the
/// review queue with claims and versions, reviews, the audit log, users, sessions, login
/// throttling, and each instance's log cursor and ruleset. Two implementations, chosen by
/// the same `ledger:` setting as the daemon's ledger (`ReviewStores.open`):
/// `SQLiteReviewStore` (`state/review.sqlite`, one host, the default) and
/// `PostgresReviewStore` (the shared ledger's database, every instance at once).
///
/// The SQL is written once, with `?` placeholders, for both: the tables and columns are the
/// same, and where the dialects differ the statement asks `dialect` (see `SQLDialect`).
public protocol ReviewStore: AnyObject, Sendable {
    /// Where it is, for messages (never with a password).
    var location: String { get }
    var dialect: SQLDialect { get }
    /// Runs `body` on a consistent view; nothing it runs may write.
    @discardableResult
    func read<T>(_ body: (any ReviewTransaction) throws -> T) throws -> T
    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    /// SQLite has one writer at a time; PostgreSQL does not, so a statement that reads a
    /// row in order to change it takes the row's lock (`dialect.forUpdate`).
    @discardableResult
    func write<T>(_ body: (any ReviewTransaction) throws -> T) throws -> T
    /// Ends the connections (PostgreSQL); nothing for SQLite.
    func close()
}

/// One transaction's statements.
public protocol ReviewTransaction {
    /// The rows of a query.
    func rows(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow]
    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int
}

extension ReviewTransaction {
    public func rows(_ sql: String) throws -> [SQLRow] { try rows(sql, []) }
    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }
    public func row(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> SQLRow? { try rows(sql, arguments).first }
    /// The first column of the first row, nil when there is no row or it is NULL.
    public func value<T: SQLDecodable>(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> T? {
        guard let row = try rows(sql, arguments).first, let column = row.columns.first else { return nil }
        let optional: T? = try row[column]
        return optional
    }
}

extension ReviewStore {
    /// `read` on a Dispatch thread: the stores block (SQLite calls, postgres-nio futures
    /// waited for), which must not happen on the threads that answer requests.
    public func readAsync<T: Sendable>(_ body: @escaping @Sendable (any ReviewTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try self.read(body) }) }
        }
    }

    /// `write` on a Dispatch thread (see `read`).
    @discardableResult
    public func writeAsync<T: Sendable>(_ body: @escaping @Sendable (any ReviewTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try self.write(body) }) }
        }
    }
}

/// What differs between SQLite and PostgreSQL in the statements the console runs. Kept to
/// these few, so that every difference is visible here.
public struct SQLDialect: Sendable, Equatable {
    /// Appended to a SELECT that reads a row in order to change it in the same transaction.
    /// PostgreSQL: `FOR UPDATE`, which makes a second host's transaction wait and then see
    /// the first one's change. SQLite: nothing, its one writer at a time already does that.
    public var forUpdate: String
    /// The case-insensitive LIKE for text search: SQLite's LIKE already is (for ASCII),
    /// PostgreSQL's is not (ILIKE is, for all of Unicode).
    public var caseInsensitiveLike: String

    public static let sqlite = SQLDialect(forUpdate: "", caseInsensitiveLike: "LIKE")
    public static let postgres = SQLDialect(forUpdate: " FOR UPDATE", caseInsensitiveLike: "ILIKE")
}

/// A column value as both stores give it.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// A value a statement can take as an argument.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension SQLValue: SQLDecodable { public static func decode(_ value: SQLValue) -> SQLValue? { value } }

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A type a column can be read as; nil when the value is not of that type.
public protocol SQLDecodable {
    static func decode(_ value: SQLValue) -> Self?
}

extension String: SQLDecodable {
    public static func decode(_ value: SQLValue) -> String? { if case .text(let text) = value { text } else { nil } }
}
extension Int64: SQLDecodable {
    public static func decode(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let integer): integer
        case .real(let real): Int64(exactly: real)
        default: nil
        }
    }
}
extension Int: SQLDecodable {
    public static func decode(_ value: SQLValue) -> Int? { Int64.decode(value).map(Int.init) }
}
extension Double: SQLDecodable {
    public static func decode(_ value: SQLValue) -> Double? {
        switch value {
        case .real(let real): real
        case .integer(let integer): Double(integer)
        default: nil
        }
    }
}
extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public static func decode(_ value: SQLValue) -> Wrapped?? {
        if value == .null { return .some(nil) }
        return Wrapped.decode(value).map { .some($0) }
    }
}

/// One result row, by column name.
public struct SQLRow: Sendable {
    public let columns: [String]
    let values: [String: SQLValue]

    public init(_ pairs: [(String, SQLValue)]) {
        columns = pairs.map(\.0)
        values = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    /// The column as `T` (an optional type for a column that may be NULL).
    public subscript<T: SQLDecodable>(_ column: String) -> T {
        get throws {
            guard let value = values[column] else { throw ReviewStoreError("the result has no column \(column)") }
            guard let decoded = T.decode(value) else { throw ReviewStoreError("column \(column) holds \(value), not a \(T.self)") }
            return decoded
        }
    }
}

/// A failure of the review store, as a sentence.
public struct ReviewStoreError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Opens the review store a console configured with `ledger:` uses.
public enum ReviewStores {
    /// SQLite: `state/review.sqlite` under `stateRoot` (creating `state/`). PostgreSQL: the
    /// ledger's database, migrated as the daemon migrates it (a newer schema is refused).
    public static func open(_ ledger: LedgerLocation, stateRoot: String, logger: Logger = Logger(label: "warden.review")) throws -> any ReviewStore {
        switch ledger {
        case .sqlite:
            return try SQLiteReviewStore.open(stateRoot: stateRoot)
        case .postgres(let settings):
            do {
                return try PostgresReviewStore(settings: settings, logger: logger)
            } catch {
                throw ConsoleError("cannot open the review store in \(settings.description): \(error)")
            }
        }
    }
}
