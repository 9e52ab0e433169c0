import Foundation
import Logging
import PostgresNIO
import WardenDaemon

/// The console's state shared by every instance: the tables of migration 3 in the ledger's
/// PostgreSQL database (`ledger: postgres://…`). Each instance's console indexes its own
/// host's decisions.jsonl into them and lists every instance's items; a claim or a review
/// taken on one host is what every other host reads on its next page load.
///
/// Statements are the SQLite store's, with `?` placeholders numbered here (`$1`, `$2`, …).
/// Reads run on a connection outside any transaction (each statement sees what was
/// committed when it started); writes in BEGIN … COMMIT, their SELECTs with
/// `dialect.forUpdate` so that two hosts acting on one item take turns.
public final class PostgresReviewStore: ReviewStore {
    let sessions: PostgresSessions
    public var location: String { sessions.settings.description }
    public var dialect: SQLDialect { .postgres }

    /// Connects and migrates (a newer schema is refused, as by the daemon).
    public init(settings: PostgresSettings, logger: Logger) throws {
        sessions = try PostgresSessions(settings: settings, logger: logger)
        do {
            try sessions.migrate()
        } catch {
            sessions.close()
            throw error
        }
    }

    public func read<T>(_ body: (any ReviewTransaction) throws -> T) throws -> T {
        try sessions.withConnection { connection in try body(Transaction(connection: connection, logger: sessions.queryLogger)) }
    }

    @discardableResult
    public func write<T>(_ body: (any ReviewTransaction) throws -> T) throws -> T {
        try sessions.withTransaction { connection in try body(Transaction(connection: connection, logger: sessions.queryLogger)) }
    }

    public func close() { sessions.close() }

    struct Transaction: ReviewTransaction {
        let connection: PostgresConnection
        let logger: Logger

        func rows(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
            try Self.named {
                try connection.run(Self.query(sql, arguments), logger: logger).map { row in
                    try SQLRow(row.map { cell in (cell.columnName, try Self.value(cell)) })
                }
            }
        }

        func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
            try Self.named { try connection.run(Self.query(sql, arguments), logger: logger).metadata.rows ?? 0 }
        }

        /// The server's error as the review store's (it would otherwise say "PostgreSQL ledger").
        static func named<T>(_ body: () throws -> T) throws -> T {
            do {
                return try body()
            } catch let error as PostgresLedgerError {
                throw ReviewStoreError("PostgreSQL review store: cannot \(error.doing): \(error.reason)")
            }
        }

        /// `sql` with its `?` placeholders (outside quotes) numbered, and the values bound.
        static func query(_ sql: String, _ arguments: [any SQLBindable]) -> PostgresQuery {
            var numbered = ""
            var next = 1
            var quote: Character?
            for character in sql {
                if let open = quote {
                    if character == open { quote = nil }
                } else if character == "'" || character == "\"" {
                    quote = character
                } else if character == "?" {
                    numbered += "$\(next)"
                    next += 1
                    continue
                }
                numbered.append(character)
            }
            var bindings = PostgresBindings(capacity: arguments.count)
            for argument in arguments {
                switch argument.sqlValue {
                case .null: bindings.appendNull()
                case .integer(let integer): bindings.append(integer)
                case .real(let real): bindings.append(real)
                case .text(let text): bindings.append(text)
                }
            }
            return PostgresQuery(unsafeSQL: numbered, binds: bindings)
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
            case .float4, .float8: return .real(try cell.decode(Double.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}
