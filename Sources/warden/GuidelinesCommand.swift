import ArgumentParser
import WardenCore

/// `warden guidelines`: the public community guidelines, from the rules that enforce them.
struct GuidelinesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guidelines",
        abstract: "Print the public community guidelines as Markdown, generated from the rules.",
        discussion: """
            The last line comes from the configuration's organisation.guidelines_footer, a template \
            ({{org.name}}, {{org.contact}}) that moderators may reword or translate.
            """)

    @Argument(help: "Rules directory (default: --rules or ./rules).") var directory: String?
    @OptionGroup var options: RulesOptions

    func validate() throws {
        if options.format == .json { throw ValidationError("guidelines are printed as Markdown only; --format json is not supported") }
    }

    func run() throws {
        let ruleSet = try loadRules(options.directory(directory), runExamples: false)
        let organisation = options.organisation
        let compiled = MessageTemplate.compile(options.settings.configuration.guidelinesFooter)
        guard let footer = compiled.template else {
            Output.error("warden: organisation.guidelines_footer: \(compiled.problems.map(\.message).joined(separator: "; "))")
            throw ExitStatus.configError
        }
        let line = footer.render(["org": ["name": organisation.name, "contact": organisation.contact]])
        Output.standard.write(GuidelinesDocument.markdown(ruleSet, organisation: organisation, footer: line))
        Output.standard.flush()
    }
}
