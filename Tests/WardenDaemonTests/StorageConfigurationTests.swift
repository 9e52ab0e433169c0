import Foundation
import Testing
@testable import WardenDaemon

@Suite("ledger: in warden.yaml selects the store, checked with file:line:column")
struct StorageConfigurationTests {
    private func load(_ yaml: String) throws -> (path: String, result: Result<DaemonConfiguration, ConfigurationError>) {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/warden.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        do { return (path, .success(try DaemonConfiguration.load(file: path))) } catch { return (path, .failure(error)) }
    }

    @Test func sqliteIsTheDefault() throws {
        #expect(try load("workers: 1\n").result.get().ledger == .sqlite)
        #expect(try load("ledger: sqlite\n").result.get().ledger == .sqlite)
    }

    @Test func aPostgresURLOverTCPOrTheLocalSocket() throws {
        let tcp = try load("ledger: postgres://warden@db.example.org:6543/moderation?sslmode=require\nledger_password_file: /etc/warden/pw\n").result.get()
        let settings = try #require(tcp.ledger.postgres)
        #expect(settings.host == "db.example.org")
        #expect(settings.port == 6543)
        #expect(settings.user == "warden")
        #expect(settings.database == "moderation")
        #expect(settings.tls == .require)
        #expect(settings.passwordFile == "/etc/warden/pw")
        #expect(tcp.effectiveValues().first { $0.key == "ledger" }?.value == "postgres://warden@db.example.org:6543/moderation?sslmode=require")

        // The password file may come first.
        let socket = try load("ledger_password_file: /run/pw\nledger: postgresql://warden@/moderation?host=/run/postgresql\n").result.get()
        #expect(socket.ledger.postgres?.socketPath == "/run/postgresql/.s.PGSQL.5432")
        #expect(socket.ledger.postgres?.passwordFile == "/run/pw")
    }

    @Test func badLedgerValuesAreErrorsAtTheirLineAndColumn() throws {
        let cases: [(yaml: String, expected: String)] = [
            ("workers: 1\nledger: postgres://warden:hunter2@db/moderation\n",
             "2:9: error: ledger: the ledger URL must not contain a password"),
            ("ledger: mysql://warden@db/moderation\n", "1:9: error: ledger: \"mysql://warden@db/moderation\" is not a postgres:// URL"),
            ("ledger: postgres://db/moderation\n", "1:9: error: ledger: the ledger URL names no user"),
            ("ledger: postgres://warden@db/\n", "1:9: error: ledger: the ledger URL names no database"),
            ("ledger: postgres://warden@db/m?sslmode=verify-full\n", "1:9: error: ledger: sslmode=verify-full is not supported"),
            ("ledger: postgres://warden@/m?host=run/pg\n", "1:9: error: ledger: host=run/pg in the ledger URL must be the directory of a Unix socket"),
            ("ledger: postgres://warden@/m\n", "1:9: error: ledger: the ledger URL names no host"),
            ("ledger_password_file: /etc/warden/pw\n", "1:23: error: ledger_password_file is set but the ledger is SQLite"),
            ("ledgr: sqlite\n", "1:1: error: unknown key \"ledgr\"; did you mean \"ledger\"?"),
        ]
        for (yaml, expected) in cases {
            let (path, result) = try load(yaml)
            guard case .failure(let error) = result else {
                Issue.record("accepted \(yaml)")
                continue
            }
            #expect(error.description.hasPrefix("\(path):\(expected)"), "\(error.description)")
            #expect(!error.description.contains("hunter2"), "a password is never repeated back")
        }
    }

    /// `instance:` names this host on the review console; the host name by default.
    @Test func theInstanceNameIsTheHostNameUnlessSet() throws {
        #expect(try load("workers: 1\n").result.get().instance == ProcessInfo.processInfo.hostName)
        #expect(try load("instance: web-2.eu\n").result.get().instance == "web-2.eu")
        for bad in ["\"\"", "\"web 2\"", "\"<b>\"", String(repeating: "a", count: 65)] {
            let (path, result) = try load("workers: 1\ninstance: \(bad)\n")
            guard case .failure(let error) = result else { Issue.record("accepted instance: \(bad)"); continue }
            #expect(error.description.hasPrefix("\(path):2:11: error: instance must be 1 to 64 letters"), "\(error.description)")
        }
    }

    @Test func thePasswordComesFromItsFileAndNeverPrints() throws {
        let directory = try TemporaryDirectory()
        let passwordPath = directory.path + "/pw"
        try "s3cret\n".write(toFile: passwordPath, atomically: true, encoding: .utf8)
        var settings = try PostgresSettings.parse("postgres://warden@db/moderation").get()
        settings.password = Secret("from-env")
        #expect(try settings.resolvedPassword() == "from-env")
        settings.passwordFile = passwordPath
        #expect(try settings.resolvedPassword() == "s3cret", "the file wins over the environment")
        #expect(!"\(settings)".contains("s3cret") && !"\(settings)".contains("from-env"))
        #expect(!String(reflecting: settings).contains("from-env"))
        settings.passwordFile = directory.path + "/missing"
        #expect(throws: LedgerUsageError.self) { try settings.resolvedPassword() }
    }
}
