import ArgumentParser
import Foundation
import WardenCore

/// The `warden` command: a thin shell over WardenCore (and WardenDaemon for `run`).
@main
struct Warden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "Moderation rules daemon: enforce community guidelines on posts in a spool directory.",
        discussion: """
            Exit status: 0 ok; 1 the command's finding (decisions change, failing examples); \
            2 usage or input error (including unknown rule or guideline names); 3 the rules do not \
            validate; 78 the configuration file is missing or invalid.
            """,
        version: BuildInfo.description,
        subcommands: [
            CheckCommand.self, TestCommand.self, ExplainCommand.self, ScanCommand.self, EvalCommand.self, DiffCommand.self,
            GuidelinesCommand.self, ConfigCommand.self, LearnCommand.self,
            ConsoleCommand.self, UsersCommand.self, AuditCommand.self, ReviewImportCommand.self,
        ] + DaemonCommands.all
    )

    /// Exit codes follow convention: 0 ok, 1 findings or failures, 2 usage or input error.
    /// ArgumentParser's default for usage errors is 64 (EX_USAGE); scripts expect 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure || code.rawValue == 64 {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
