import ArgumentParser

/// The daemon's subcommands (`run`, `strikes`, `pardon`), kept apart from the moderator's.
enum DaemonCommands {
    static let all: [ParsableCommand.Type] = [RunCommand.self, StrikesCommand.self, PardonCommand.self, ConfirmCommand.self]
}
