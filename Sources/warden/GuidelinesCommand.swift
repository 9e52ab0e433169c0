import ArgumentParser
import WardenCore

/// `warden guidelines`: the public community guidelines, from the rules that enforce them.
struct GuidelinesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guidelines", abstract: "Print the public community guidelines as Markdown, generated from the rules.")

    @Argument(help: "Rules directory (default: --rules or ./rules).") var directory: String?
    @OptionGroup var options: RulesOptions

    func run() throws {
        let ruleSet = try loadRules(options.directory(directory), runExamples: false)
        Output.standard.write(GuidelinesDocument.markdown(ruleSet, organisation: options.organisation))
        Output.standard.flush()
    }
}
