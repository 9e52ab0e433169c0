import Mustache

/// A moderator's message or public-note template, rendered with swift-mustache.
///
/// Templates render as plain text (no HTML escaping): the poster must see their own words,
/// `&` and all. Placeholders are checked when the rules load, so a typo such as
/// `{{author.nmae}}` is a load error rather than a silently empty greeting.
public struct MessageTemplate: Sendable {
    /// The template as the moderator wrote it.
    public let source: String
    private let template: MustacheTemplate
    /// Whether the template may show `{{redacted_text}}` (the name occurs in it): only then
    /// does a post that is not sanctioned pay for redacting its text.
    public let usesRedactedText: Bool

    /// Names a template may use at the top level.
    public static let placeholders: Set<String> = [
        "author.name", "author.id", "guideline.id", "guideline.title", "guideline.url", "guideline.text",
        "guidelines", "redacted_text", "org.name", "org.contact", "action", "post.id", "post.platform",
        "rule.id", "route_to", "action_past", "author", "guideline", "org", "post", "rule",
    ]
    /// Names usable inside `{{#guidelines}}…{{/guidelines}}`.
    public static let guidelineItemPlaceholders: Set<String> = ["id", "title", "url", "text", "last", "."]

    /// A problem in a template, with its position inside the template text (1-based).
    public struct Problem: Error, Sendable {
        public var message: String
        public var line: Int
        public var column: Int
    }

    /// Parses and checks `source`; every problem found is returned at once.
    public static func compile(_ source: String) -> (template: MessageTemplate?, problems: [Problem]) {
        var problems = checkPlaceholders(source)
        do {
            let template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source)
            if problems.isEmpty { return (MessageTemplate(source: source, template: template), []) }
        } catch let error as MustacheTemplate.ParserError {
            let offsetColumn = error.context.lineNumber == 1 ? error.context.columnNumber - 24 : error.context.columnNumber
            problems.append(Problem(message: "template does not parse: \(error.error)", line: error.context.lineNumber, column: max(1, offsetColumn)))
        } catch {
            problems.append(Problem(message: "template does not parse: \(error)", line: 1, column: 1))
        }
        return (nil, problems)
    }

    private init(source: String, template: MustacheTemplate) {
        self.source = source
        self.template = template
        self.usesRedactedText = source.contains("redacted_text")
    }

    /// Renders with `context`, a tree of dictionaries, arrays and strings.
    public func render(_ context: [String: Any]) -> String {
        template.render(context)
    }

    /// Finds `{{name}}`, `{{{name}}}`, `{{&name}}`, `{{#name}}`, `{{^name}}` tags and checks the names.
    static func checkPlaceholders(_ source: String) -> [Problem] {
        var problems: [Problem] = []
        let scalars = Array(source.unicodeScalars)
        var index = 0
        var line = 1, column = 1
        var sections: [String] = []
        func advance(_ n: Int) {
            for _ in 0..<n where index < scalars.count {
                if scalars[index] == "\n" { line += 1; column = 1 } else { column += 1 }
                index += 1
            }
        }
        while index < scalars.count {
            guard scalars[index] == "{", index + 1 < scalars.count, scalars[index + 1] == "{" else {
                advance(1)
                continue
            }
            let tagLine = line, tagColumn = column
            var close = index + 2
            while close + 1 < scalars.count && !(scalars[close] == "}" && scalars[close + 1] == "}") { close += 1 }
            guard close + 1 < scalars.count else { break }
            var body = String(String.UnicodeScalarView(scalars[(index + 2)..<close]))
            var length = close + 2 - index
            if body.hasPrefix("{") {
                body.removeFirst()
                if close + 2 < scalars.count && scalars[close + 2] == "}" { length += 1 }
            }
            advance(length)
            body = body.trimmingCharacters(in: " \t")
            guard let sigil = body.first else { continue }
            var kind = "variable"
            if "#^/&!%>".contains(sigil) {
                kind = String(sigil)
                body = String(body.dropFirst()).trimmingCharacters(in: " \t")
            }
            if kind == "!" || kind == "%" { continue }
            if kind == ">" {
                problems.append(Problem(message: "partials ({{> \(body)}}) are not supported in messages", line: tagLine, column: tagColumn))
                continue
            }
            if kind == "/" {
                if sections.last == body { sections.removeLast() }
                continue
            }
            let known: Bool
            if sections.last == "guidelines" {
                known = guidelineItemPlaceholders.contains(body) || placeholders.contains(body)
            } else {
                known = placeholders.contains(body)
            }
            if !known {
                let candidates = sections.last == "guidelines" ? guidelineItemPlaceholders.union(placeholders) : placeholders
                let hint = DidYouMean.suggest(body, from: candidates).map { "; did you mean {{\($0)}}?" } ?? ""
                problems.append(Problem(message: "unknown placeholder {{\(body)}}\(hint)", line: tagLine, column: tagColumn))
            }
            if kind == "#" || kind == "^" { sections.append(body) }
        }
        return problems
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}

/// Suggests the closest known name for a misspelt key or placeholder.
public enum DidYouMean {
    public static func suggest(_ word: String, from candidates: some Sequence<String>) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            guard distance <= max(2, word.count / 3) else { continue }
            if let current = best, current.1 <= distance { continue }
            best = (candidate, distance)
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
