import ArgumentParser
import Foundation
import WardenConsole

/// `warden users add|remove|reset|list`: the review console's accounts.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Manage the review console's users (moderators and admins).",
        subcommands: [Add.self, Remove.self, Reset.self, List.self])


    /// The password from standard input when it is not a terminal, else a generated one
    /// (printed once: only its bcrypt hash is stored).
    static func password() -> (password: String, generated: Bool) {
        if isatty(STDIN_FILENO) == 0, let line = readLine(strippingNewline: true), !line.isEmpty { return (line, false) }
        return (Accounts.generatePassword(), true)
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user; the password is read from stdin, or generated and printed once.")
        @Argument(help: "User name: letters, digits, . _ - @") var name: String
        @Option(name: .long, help: "moderator or admin") var role: String = "moderator"
        @OptionGroup var options: ReviewStoreOptions

        func run() throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be moderator or admin, not \(role)") }
            let (password, generated) = UsersCommand.password()
            try Accounts(store: options.open()).add(name: name, role: role, password: password)
            print("added \(name) (\(role.rawValue))" + (generated ? "; password (shown once): \(password)" : ""))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user and end their sessions.")
        @Argument var name: String
        @OptionGroup var options: ReviewStoreOptions
        func run() throws {
            try Accounts(store: options.open()).remove(name: name)
            print("removed \(name)")
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password (stdin, or generated and printed once) and end the user's sessions.")
        @Argument var name: String
        @Option(name: .long, help: "Also change the role: moderator or admin.") var role: String?
        @OptionGroup var options: ReviewStoreOptions
        func run() throws {
            let newRole = try role.map { value -> Role in
                guard let role = Role(rawValue: value) else { throw ValidationError("--role must be moderator or admin, not \(value)") }
                return role
            }
            let (password, generated) = UsersCommand.password()
            try Accounts(store: options.open()).reset(name: name, password: password, role: newRole)
            print("reset \(name)" + (generated ? "; password (shown once): \(password)" : ""))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users and roles.")
        @OptionGroup var options: ReviewStoreOptions
        func run() throws {
            for user in try Accounts(store: options.open()).users() { print("\(user.name)\t\(user.role.rawValue)") }
        }
    }
}
