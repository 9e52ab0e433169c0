/// The public community guidelines as Markdown, generated from the rule files that enforce
/// them, so that what is published and what is enforced cannot drift apart.
public enum GuidelinesDocument {
    /// `footer`: the closing line, already rendered (the CLI renders the configuration's template).
    public static func markdown(_ ruleSet: RuleSet, organisation: Organisation = Organisation(), footer: String? = nil) -> String {
        var out = "# Community guidelines\n\n"
        out += "These guidelines apply to every comment on our pages. They are enforced by the same rules that produce this page.\n\n"
        for (index, guideline) in ruleSet.guidelines.enumerated() {
            let rules = ruleSet.rules.filter { $0.guidelineIndex == index && $0.mode == .enforce }
            let anchor = guideline.url.split(separator: "#").last.map(String.init) ?? guideline.id
            out += "## \(guideline.title)\n\n<a id=\"\(anchor)\"></a>\n\n\(guideline.text)\n\n"
            let actions = Set(rules.map(\.action)).sorted()
            if !actions.isEmpty {
                let described = actions.map(describe).joined(separator: "; ")
                out += "*What happens:* \(described).\n\n"
            }
            if ruleSet.escalation.counted.contains(guideline.id) {
                out += "*Strikes:* breaking this guideline counts towards the limits below.\n\n"
            } else if !guideline.strikes || !rules.contains(where: { $0.action.isSanction }) {
                out += "*Strikes:* none. This is never held against you.\n\n"
            }
        }
        let policy = ruleSet.escalation
        if !policy.thresholds.isEmpty {
            let days = Int((policy.window / 86_400).rounded())
            out += "## Repeated breaches\n\n"
            out += "We count breaches of the guidelines marked above over the last \(days) days. "
            out += policy.thresholds.map { threshold in
                switch threshold.action {
                case .holdAuthor: "After \(threshold.strikes), every new comment of yours is held until a moderator has read it"
                case .blockAuthor: "after \(threshold.strikes), you can no longer comment on our pages"
                default: "after \(threshold.strikes): \(threshold.action.rawValue)"
                }
            }.joined(separator: "; ") + ". Complaints and questions never count.\n\n"
        }
        out += (footer ?? "If you think we got it wrong, tell \(organisation.name) by \(organisation.contact).") + "\n"
        return out
    }

    private static func describe(_ action: Action) -> String {
        switch action {
        case .delete: "the comment is removed"
        case .hide: "the comment is hidden"
        case .hold: "the comment is held until a moderator reviews it"
        case .route: "the comment stays up and is passed to the team that can help"
        case .flag: "the comment stays up and our staff are told"
        default: action.rawValue
        }
    }
}
