import ArgumentParser
import Foundation
import WardenCore
import WardenDaemon

// Flags shared by several commands, one struct each (swift-argument-parser's @OptionGroup),
// so that `--config`, `--rules`, `--state` and `--format` mean the same everywhere.

/// `--config FILE`: warden.yaml. Without it, an installed warden run outside a checkout
/// reads the installed one (see `InstallLayout`), and says so.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Configuration file (warden.yaml).",
        discussion: "Default: none in a checkout; the installed /etc/warden/warden.yaml when there is no ./rules here."))
    var config: String?

    /// A configuration that does not load stops every command with exit 78 (EX_CONFIG).
    func validate() throws { _ = try settings() }

    /// The configuration file's values (defaults when there is none), and the installation
    /// whose paths fill in what neither the flags nor the file give.
    func settings() throws -> Settings {
        let install = InstallLayout.current
        var file = config
        var origin = "--config"
        if file == nil, let install, !FileManager.default.fileExists(atPath: "./rules"), FileManager.default.fileExists(atPath: install.configFile) {
            file = install.configFile
            origin = "installed default"
            Notes.say("no ./rules here: using the installed configuration \(install.configFile)")
        }
        guard let file else { return Settings(configuration: DaemonConfiguration(), configFile: nil, install: install) }
        do {
            var configuration = try DaemonConfiguration.load(file: file)
            configuration.origins["config"] = origin
            configuration.takeLedgerPasswordFromEnvironment()
            return Settings(configuration: configuration, configFile: file, install: install)
        } catch {
            Output.error("warden: \(error)")
            throw ExitStatus.configError
        }
    }
}

/// The effective configuration: warden.yaml (or defaults) and the installation's paths.
struct Settings {
    var configuration: DaemonConfiguration
    var configFile: String?
    var install: InstallLayout?
}

/// What most moderator commands share: the configuration, the rules in force, the
/// organisation named in messages, and the output format.
struct RulesOptions: ParsableArguments {
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var location: RulesLocationOptions
    @OptionGroup var organisationOptions: OrganisationOptions
    @OptionGroup var output: FormatOptions

    /// Nested groups are validated by the parser too; this keeps it so whatever the version.
    func validate() throws { try configOptions.validate() }

    var format: OutputFormat { output.format }
    var config: String? { configOptions.config }
    var rules: String? { location.rules }

    /// The effective settings; `validate()` has already stopped the command if they do not load.
    var settings: Settings {
        (try? configOptions.settings()) ?? Settings(configuration: DaemonConfiguration(), configFile: nil, install: InstallLayout.current)
    }

    /// The configuration file's values, if a configuration file is in use.
    func configuration() throws -> DaemonConfiguration? {
        let settings = try configOptions.settings()
        return settings.configFile == nil ? nil : settings.configuration
    }

    var organisation: Organisation { organisationOptions.organisation(settings: settings) }

    /// The rules path: `positional`, --rules, the configuration's, ./rules or the installed ones.
    func directory(_ positional: String? = nil) -> String { location.path(positional, settings: settings) }

    /// The rules a command uses when given none and no configuration: ./rules, else the installed ones.
    static func defaultRulesDirectory() -> String {
        RulesLocationOptions.resolve(given: nil, local: nil, settings: Settings(configuration: DaemonConfiguration(), configFile: nil, install: InstallLayout.current))
    }
}

/// `--rules DIR` and `--local-rules DIR`: the rules in force.
struct RulesLocationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Rules directory, or SHIPPED:LOCAL for shipped rules with local overrides.",
        discussion: "Default: the configuration's `rules`, else ./rules, else the installed /usr/share/warden/rules with /etc/warden/rules.d."))
    var rules: String?

    @Option(name: .customLong("local-rules"), help: "Local additions and overrides applied over --rules (e.g. /etc/warden/rules.d).")
    var localRules: String?

    /// The rules path to load: a flag wins, then warden.yaml, then ./rules, then the package's.
    func path(_ positional: String? = nil, settings: Settings) -> String {
        Self.resolve(given: positional ?? rules, local: localRules, settings: settings)
    }

    static func resolve(given: String?, local localRules: String?, settings: Settings) -> String {
        let configuration = settings.configuration
        if let given {
            return localRules.map { given + ":" + $0 } ?? given
        }
        if configuration.origins["rules"] != nil || configuration.origins["local_rules"] != nil {
            return localRules.map { configuration.rulesDirectory + ":" + $0 } ?? configuration.rulesPath
        }
        if FileManager.default.fileExists(atPath: "./rules") { return localRules.map { "./rules:" + $0 } ?? "./rules" }
        if let install = settings.install, FileManager.default.fileExists(atPath: install.shippedRules) {
            let local = localRules ?? install.localRules
            Notes.say("no ./rules here: using the installed rules \(install.shippedRules) with local overrides from \(local)")
            return install.shippedRules + ":" + local
        }
        return localRules.map { "./rules:" + $0 } ?? "./rules"
    }
}

/// `--state DIR`: the daemon's state root (inbox/, outbox/, done/, state/ledger.sqlite).
struct StateOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "State root of the daemon.",
        discussion: "Default: the configuration's `state`, else ./var, else the installed /var/lib/warden."))
    var state: String?

    func root(settings: Settings) -> String {
        if let state { return state }
        if settings.configuration.origins["state"] != nil { return settings.configuration.stateRoot }
        if FileManager.default.fileExists(atPath: "./var") { return "./var" }
        if let install = settings.install, FileManager.default.fileExists(atPath: install.stateRoot) {
            Notes.say("no ./var here: using the installed state \(install.stateRoot)")
            return install.stateRoot
        }
        return "./var"
    }
}

/// `--org-name` and `--org-contact`, used in the messages to posters.
struct OrganisationOptions: ParsableArguments {
    @Option(name: .customLong("org-name"), help: "Organisation name used in messages (default: from the configuration, else \"our team\").")
    var orgName: String?

    @Option(name: .customLong("org-contact"), help: "Where posters are invited to write privately (default: from the configuration).")
    var orgContact: String?

    func organisation(settings: Settings) -> Organisation {
        let configured = settings.configuration.organisation
        return Organisation(name: orgName ?? configured.name, contact: orgContact ?? configured.contact)
    }
}

/// `--format text|json`.
struct FormatOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text
}

/// Where an installed warden keeps things, found from the executable's own path so that a
/// package unpacked under any root (`dpkg -x pkg.deb ROOT`, `make install DESTDIR=…`) finds
/// its own files: ROOT/usr/bin/warden reads ROOT/usr/share/warden/rules, ROOT/etc/warden and
/// ROOT/var/lib/warden; PREFIX/bin/warden for another PREFIX reads PREFIX/share/warden/rules,
/// PREFIX/etc/warden and PREFIX/var/lib/warden. A checkout's .build/debug/warden has no
/// share/warden beside it, and no installed defaults.
struct InstallLayout: Equatable {
    var shippedRules: String
    var localRules: String
    var configFile: String
    var stateRoot: String

    static let current: InstallLayout? = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return forExecutable(executable)
    }()

    static func forExecutable(_ path: String) -> InstallLayout? {
        let bin = (path as NSString).deletingLastPathComponent
        guard (bin as NSString).lastPathComponent == "bin" else { return nil }
        let prefix = (bin as NSString).deletingLastPathComponent
        let shipped = prefix + "/share/warden/rules"
        guard FileManager.default.fileExists(atPath: prefix + "/share/warden") else { return nil }
        // /usr (and ROOT/usr) keep configuration and state outside the prefix, as Debian does.
        let root = (prefix as NSString).lastPathComponent == "usr" ? (prefix as NSString).deletingLastPathComponent : prefix
        let base = root == "/" ? "" : root
        return InstallLayout(shippedRules: shipped, localRules: base + "/etc/warden/rules.d",
                             configFile: base + "/etc/warden/warden.yaml", stateRoot: base + "/var/lib/warden")
    }
}

/// One-time notes on stderr ("no ./rules here: using …"), said once however often a path is asked for.
enum Notes {
    nonisolated(unsafe) private static var said: Set<String> = []

    static func say(_ note: String) {
        guard said.insert(note).inserted else { return }
        Output.error("warden: \(note)")
    }
}

/// A name the user typed that Warden does not know: exit 2 with the closest known one.
func unknownName(_ kind: String, _ name: String, known: some Collection<String>) -> ExitCode {
    let hint = DidYouMean.suggest(name, from: known).map { "; did you mean \"\($0)\"?" } ?? ""
    let list = known.count <= 12 ? " (known: \(known.sorted().joined(separator: ", ")))" : ""
    Output.error("warden: unknown \(kind) \"\(name)\"\(hint)\(list)")
    return ExitStatus.inputError
}

extension DaemonConfiguration {
    /// The shared ledger's password from the environment (never a flag: it would show in
    /// ps and shell history); a password file in warden.yaml wins. For every command that
    /// opens the ledger or the review store: run, console, strikes, pardon, users, audit.
    mutating func takeLedgerPasswordFromEnvironment() {
        if case .postgres(var settings) = ledger, settings.passwordFile == nil,
           let password = ProcessInfo.processInfo.environment["WARDEN_LEDGER_PASSWORD"] {
            settings.password = Secret(password)
            ledger = .postgres(settings)
        }
    }
}
