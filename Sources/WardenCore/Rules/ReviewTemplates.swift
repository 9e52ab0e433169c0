import Foundation
import Yams

/// The messages the review console sends to posters after a moderator's review, from
/// `rules/review.yaml`: like every other message they are policy, written by moderators,
/// checked when loaded (unknown placeholders are errors with file:line:column).
public struct ReviewTemplates: Sendable {
    /// The file names the rule loader leaves to this type.
    public static let fileNames: Set<String> = ["review.yaml", "review.yml"]

    /// One message per review outcome. Keys of review.yaml, in the order they are documented.
    public enum Outcome: String, Sendable, CaseIterable {
        /// A held post put back up by a moderator.
        case released
        /// A held post removed by a moderator, or a missed post removed after the fact.
        case removed
        /// An appeal rejected: the decision stands.
        case appealUpheld = "appeal_upheld"
        /// An appeal accepted: the post is restored.
        case appealOverturned = "appeal_overturned"
        /// A wrong automatic removal restored without an appeal.
        case restored
    }

    public var templates: [Outcome: MessageTemplate]

    /// Defaults used for outcomes review.yaml does not name (and when there is no review.yaml).
    public static let defaults: [Outcome: String] = [
        .released: "Hi {{author.name}}, a moderator reviewed your post and it is visible again. Thank you for your patience.",
        .removed: "Hi {{author.name}}, a moderator reviewed your post and removed it because it broke our guideline \"{{guideline.title}}\".",
        .appealUpheld: "Hi {{author.name}}, we looked at your appeal again. The decision on your post stands: it broke our guideline \"{{guideline.title}}\".",
        .appealOverturned: "Hi {{author.name}}, we looked at your appeal again and you were right: your post is visible again and no strike is counted against you.",
        .restored: "Hi {{author.name}}, we removed your post by mistake. It is visible again and no strike is counted against you.",
    ]

    /// Loads `review.yaml` (or `review.yml`) from a rules directory; every problem at once.
    public static func load(rulesDirectory directory: String) throws(RuleLoadError) -> ReviewTemplates {
        var sources = defaults
        var diagnostics: [Diagnostic] = []
        var lineOf: [Outcome: Int] = [:]
        var file = "review.yaml"
        for name in fileNames.sorted() where FileManager.default.fileExists(atPath: directory + "/" + name) {
            file = name
            guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                  let text = String(data: data, encoding: .utf8) else {
                throw RuleLoadError(diagnostics: [Diagnostic(SourceLocation(file: name, line: 1, column: 1), "cannot read the file as UTF-8")])
            }
            let root: Node?
            do { root = try Yams.compose(yaml: text) } catch {
                throw RuleLoadError(diagnostics: [Diagnostic(SourceLocation(file: name, line: 1, column: 1), "not valid YAML: \(error)")])
            }
            guard let root else { break }
            guard let mapping = root.mapping else {
                throw RuleLoadError(diagnostics: [Diagnostic(SourceLocation(file: name, line: root.mark?.line ?? 1, column: root.mark?.column ?? 1),
                                                             "review.yaml must be a mapping of outcome to message")])
            }
            for (keyNode, valueNode) in mapping {
                let key = keyNode.string ?? ""
                let at = SourceLocation(file: name, line: keyNode.mark?.line ?? 1, column: keyNode.mark?.column ?? 1)
                guard let outcome = Outcome(rawValue: key) else {
                    let known = Outcome.allCases.map(\.rawValue).joined(separator: ", ")
                    diagnostics.append(Diagnostic(at, "unknown key \"\(key)\" in review.yaml (known: \(known))"))
                    continue
                }
                guard let message = valueNode.string else {
                    diagnostics.append(Diagnostic(at, "\"\(key)\" must be a message template (a string)"))
                    continue
                }
                sources[outcome] = message
                lineOf[outcome] = valueNode.mark?.line ?? at.line
            }
        }
        var templates: [Outcome: MessageTemplate] = [:]
        for (outcome, source) in sources {
            let (template, problems) = MessageTemplate.compile(source)
            for problem in problems {
                let line = (lineOf[outcome] ?? 1) + problem.line - 1
                diagnostics.append(Diagnostic(SourceLocation(file: file, line: line, column: problem.column), "\(outcome.rawValue): \(problem.message)"))
            }
            if let template { templates[outcome] = template }
        }
        if !diagnostics.isEmpty { throw RuleLoadError(diagnostics: diagnostics) }
        return ReviewTemplates(templates: templates)
    }

    /// The message for `outcome`, rendered with the same context names as rule messages.
    public func render(_ outcome: Outcome, context: [String: Any]) -> String {
        templates[outcome]?.render(context) ?? ""
    }
}
