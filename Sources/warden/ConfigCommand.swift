import ArgumentParser
import Foundation
import WardenDaemon

/// `warden config`: the effective configuration and where each value came from, like
/// Postfix's `postconf -n`: what `warden run` with the same flags would use.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration, with where each value came from.",
        discussion: """
            Takes the flags of `warden run`. Each line is `key = value  # origin`, the origin being \
            FILE:LINE:COLUMN in warden.yaml, the command-line flag, an installed default, or `default`. \
            Exit status 78 (EX_CONFIG) when the configuration file is missing or invalid.
            """)

    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        var configuration = try daemon.effectiveConfiguration()
        if configuration.origins["rules"] == nil {
            configuration.origins["rules"] = configuration.rulesDirectory.contains(":") ? "installed default" : "default"
        }
        if configuration.origins["state"] == nil, configuration.stateRoot != "./var" { configuration.origins["state"] = "installed default" }
        let file = try daemon.config.settings().configFile
        let values = [(key: "config", value: file ?? "(none)", origin: file == nil ? "default" : (daemon.config.config == nil ? "installed default" : "--config"))]
            + configuration.effectiveValues()
        switch output.format {
        case .json:
            let object = Dictionary(uniqueKeysWithValues: values.map { ($0.key, ["value": $0.value, "origin": $0.origin]) })
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
        case .text:
            let width = values.map(\.key.count).max() ?? 0
            for (key, value, origin) in values {
                let shown = value.contains("\n") || value.hasPrefix(" ") || value.isEmpty ? "\"\(value.replacingOccurrences(of: "\n", with: "\\n"))\"" : value
                print("\(key.padding(toLength: width, withPad: " ", startingAt: 0)) = \(shown)  # \(origin)")
            }
        }
    }
}
