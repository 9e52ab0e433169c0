// Over 400 lines: the validating reader of the whole rules format; every section needs LoadContext's private state and locations.
import Crypto
import Foundation
import Yams

/// Loads and validates a rules directory.
///
/// Loading never stops at the first problem: every unknown key, bad pattern, missing word
/// list and failing example is collected with its file, line and column, so that a
/// moderator sees the whole list at once and a bad change is refused as a whole.
public enum RuleLoader {
    /// Loads `directory`. With `runExamples`, every rule's examples are judged too and a
    /// failing example is an error: a rules directory is valid only if its examples hold.
    /// `options`: how patterns are compiled and run (JIT, pre-filter), and the logger for
    /// problems that do not stop loading.
    public static func load(directory: String, runExamples: Bool = true,
                            options: MatchingOptions = MatchingOptions()) throws(RuleLoadError) -> RuleSet {
        try load(directory: directory, runExamples: runExamples, options: options, read: { FileManager.default.contents(atPath: $0) })
    }

    /// `read` gives a file's bytes by path; tests replace it to change a file between reads.
    static func load(directory: String, runExamples: Bool, options: MatchingOptions = MatchingOptions(),
                     read: @escaping (String) -> Data?) throws(RuleLoadError) -> RuleSet {
        // "SHIPPED:LOCAL" (a server's /usr/share/warden/rules:/etc/warden/rules.d): RuleOverlay.swift.
        if let overlay = RuleOverlay(path: directory) { return try overlay.load(runExamples: runExamples, options: options).ruleSet }
        var context = LoadContext(directory: directory, options: options, read: read)
        let ruleSet = context.load()
        var diagnostics = context.diagnostics
        if let ruleSet, runExamples, diagnostics.allSatisfy({ $0.severity != .error }) {
            for failure in ExampleRunner.run(ruleSet).failures {
                diagnostics.append(Diagnostic(failure.example.location, failure.summary))
            }
        }
        guard let ruleSet, diagnostics.allSatisfy({ $0.severity != .error }) else {
            throw RuleLoadError(diagnostics: diagnostics)
        }
        var loaded = ruleSet
        loaded.warnings = diagnostics
        return loaded
    }

    /// Keys a guideline file may have.
    static let guidelineKeys: Set<String> = [
        "guideline", "title", "text", "url", "strikes", "allow", "allow_file", "message", "public_note", "rules", "description",
    ]
    /// Keys a rule may have.
    static let ruleKeys: Set<String> = [
        "id", "description", "words", "phrases", "patterns", "detect", "when", "case_sensitive", "normalize", "action",
        "route_to", "mode", "message", "public_note", "examples", "strikes",
    ]
    /// Keys of `when`.
    static let conditionKeys: Set<String> = [
        "links", "mentions", "caps", "repeated_chars", "length", "repeat_post", "flood", "authors", "unless_guideline", "score",
    ]
    static let escalationKeys: Set<String> = ["window", "count", "thresholds"]
}

/// The state of one load: the directory, the problems so far, and what is built.
struct LoadContext {
    let directory: String
    var diagnostics: [Diagnostic] = []
    /// Guidelines named by `unless_guideline`, checked once every guideline is known.
    var guidelineReferences: [(String, SourceLocation)] = []
    private var fileLines: [String: [Substring]] = [:]
    private let read: (String) -> Data?
    /// Every file read, by path relative to the directory, as it was parsed: the digest is
    /// computed from these bytes, never from a second read that a save could slip between.
    private var readFiles: [String: Data] = [:]
    /// What was read and parsed so far (a local overlay's digest is made from it too).
    var filesRead: [String: Data] { readFiles }

    let options: MatchingOptions

    init(directory: String, options: MatchingOptions, read: @escaping (String) -> Data?) {
        self.directory = directory
        self.options = options
        self.read = read
    }

    /// The bytes of `relativePath`, read once per load: a word list named by two rules is
    /// parsed from the same bytes both times.
    mutating func contents(of relativePath: String) -> Data? {
        if let known = readFiles[relativePath] { return known }
        guard let data = read(directory + "/" + relativePath) else { return nil }
        readFiles[relativePath] = data
        return data
    }

    mutating func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    mutating func warning(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message, severity: .warning))
    }

    func location(_ file: String, _ node: Node?) -> SourceLocation {
        let mark = node?.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// The position of character (`line`, `column`) inside a scalar's value, in the file.
    ///
    /// Exact for plain, quoted and block scalars without escapes, which is how patterns and
    /// templates are written; for escaped double-quoted strings it is close.
    func location(_ file: String, _ node: Node, innerLine: Int, innerColumn: Int) -> SourceLocation {
        let base = location(file, node)
        guard let scalar = node.scalar else { return base }
        switch scalar.style {
        case .literal, .folded:
            // The value starts on the line after the indicator, at the block's indentation.
            let lines = fileLines[file] ?? []
            let lineIndex = base.line + innerLine - 1
            var indent = 0
            if lineIndex >= 0 && lineIndex < lines.count {
                indent = lines[lineIndex].prefix { $0 == " " }.count
            }
            return SourceLocation(file: file, line: base.line + innerLine, column: indent + innerColumn)
        case .singleQuoted, .doubleQuoted:
            return SourceLocation(file: file, line: base.line + innerLine - 1, column: innerLine == 1 ? base.column + innerColumn : innerColumn)
        default:
            return SourceLocation(file: file, line: base.line + innerLine - 1, column: innerLine == 1 ? base.column + innerColumn - 1 : innerColumn)
        }
    }

    // MARK: Directory

    mutating func load() -> RuleSet? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            error(SourceLocation(file: directory, line: 1, column: 1), "rules directory not found (give it with --rules DIR)")
            return nil
        }
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            self.error(SourceLocation(file: directory, line: 1, column: 1), "cannot list the rules directory: \(error.localizedDescription)")
            return nil
        }
        let yamlNames = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        var guidelines: [Guideline] = []
        var rules: [Rule] = []
        var escalationFile: String?
        var seenGuidelines: [String: SourceLocation] = [:]
        var seenRules: [String: SourceLocation] = [:]
        for name in yamlNames {
            if name == "escalation.yaml" || name == "escalation.yml" {
                escalationFile = name
                continue
            }
            if ReviewTemplates.fileNames.contains(name) { continue }  // the review console's messages, see ReviewTemplates
            guard let root = parseYAML(name) else { continue }
            guard let parsed = parseGuideline(file: name, root: root, index: guidelines.count) else { continue }
            if let previous = seenGuidelines[parsed.guideline.id] {
                error(parsed.guideline.location, "guideline \"\(parsed.guideline.id)\" is also defined at \(previous)")
                continue
            }
            seenGuidelines[parsed.guideline.id] = parsed.guideline.location
            for rule in parsed.rules {
                if let previous = seenRules[rule.id] {
                    error(rule.location, "duplicate rule id \"\(rule.id)\" (first defined at \(previous))")
                } else {
                    seenRules[rule.id] = rule.location
                }
            }
            guidelines.append(parsed.guideline)
            rules += parsed.rules
        }
        if yamlNames.isEmpty {
            error(SourceLocation(file: directory, line: 1, column: 1), "no guideline files (*.yaml) in the rules directory")
        }
        var escalation = EscalationPolicy()
        if let escalationFile, let root = parseYAML(escalationFile) {
            escalation = parseEscalation(file: escalationFile, root: root, guidelines: Set(guidelines.map(\.id)))
        }
        let guidelineIDs = guidelines.map(\.id)
        for (name, location) in guidelineReferences where !guidelineIDs.contains(name) {
            let hint = DidYouMean.suggest(name, from: guidelineIDs).map { "; did you mean \"\($0)\"?" } ?? ""
            error(location, "unknown guideline \"\(name)\" in unless_guideline\(hint)")
        }
        for rule in rules { checkBacktracking(rule) }
        let models = loadModels(for: &rules)
        let digest = Self.digest(of: readFiles)
        return RuleSet(guidelines: guidelines, rules: rules, escalation: escalation, digest: digest, directory: directory, warnings: [],
                       models: models, gatePatterns: options.gatePatterns)
    }

    /// `sha256:` over every file read's relative path and bytes, in a stable order.
    static func digest(of files: [String: Data]) -> String {
        var hasher = SHA256()
        for (path, contents) in files.sorted(by: { $0.key < $1.key }) {
            hasher.update(data: Data(path.utf8))
            hasher.update(data: Data([0]))
            hasher.update(data: contents)
            hasher.update(data: Data([0]))
        }
        return "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    mutating func parseYAML(_ file: String) -> Node? {
        guard let data = contents(of: file) else {
            error(SourceLocation(file: file, line: 1, column: 1), "cannot read the file")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            error(SourceLocation(file: file, line: 1, column: 1), "the file is not valid UTF-8")
            return nil
        }
        fileLines[file] = text.split(separator: "\n", omittingEmptySubsequences: false)
        do {
            guard let node = try Yams.compose(yaml: text) else {
                error(SourceLocation(file: file, line: 1, column: 1), "the file is empty")
                return nil
            }
            return node
        } catch let yamlError as YamlError {
            switch yamlError {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                let where_ = context.map { " \($0.text)" } ?? ""
                error(SourceLocation(file: file, line: mark.line, column: mark.column), "YAML syntax error: \(problem)\(where_)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                error(
                    SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                    "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in a mapping")
            default:
                error(SourceLocation(file: file, line: 1, column: 1), "YAML error: \(yamlError)")
            }
            return nil
        } catch {
            self.error(SourceLocation(file: file, line: 1, column: 1), "YAML error: \(error)")
            return nil
        }
    }

    // MARK: Values

    private mutating func checkKeys(_ mapping: Node.Mapping, allowed: Set<String>, file: String, what: String) {
        for (key, _) in mapping {
            guard let name = key.string else {
                error(location(file, key), "keys of \(what) must be plain names")
                continue
            }
            if !allowed.contains(name) {
                let hint = DidYouMean.suggest(name, from: allowed).map { "; did you mean \"\($0)\"?" } ?? ""
                error(location(file, key), "unknown key \"\(name)\" in \(what)\(hint)")
            }
        }
    }

    private mutating func string(_ node: Node?, file: String, key: String, required: Bool, parent: Node) -> String? {
        guard let node else {
            if required { error(location(file, parent), "missing required key \"\(key)\"") }
            return nil
        }
        guard let scalar = node.scalar else {
            error(location(file, node), "\"\(key)\" must be a text value")
            return nil
        }
        return scalar.string
    }

    private mutating func bool(_ node: Node?, file: String, key: String, default value: Bool) -> Bool {
        guard let node else { return value }
        guard let scalar = node.scalar, let parsed = Bool.construct(from: scalar) else {
            error(location(file, node), "\"\(key)\" must be true or false")
            return value
        }
        return parsed
    }

    private mutating func stringList(_ node: Node?, file: String, key: String) -> [(String, Node)] {
        guard let node else { return [] }
        if node.scalar != nil, let value = node.string { return [(value, node)] }
        guard let sequence = node.sequence else {
            error(location(file, node), "\"\(key)\" must be a list")
            return []
        }
        var out: [(String, Node)] = []
        for item in sequence {
            guard item.scalar != nil, let value = item.string else {
                error(location(file, item), "each entry of \"\(key)\" must be text")
                continue
            }
            out.append((value, item))
        }
        return out
    }

    private mutating func template(_ node: Node?, file: String, key: String) -> MessageTemplate? {
        guard let node else { return nil }
        guard let source = node.scalar?.string else {
            error(location(file, node), "\"\(key)\" must be text")
            return nil
        }
        let compiled = MessageTemplate.compile(source)
        for problem in compiled.problems {
            error(location(file, node, innerLine: problem.line, innerColumn: problem.column), "in \(key): \(problem.message)")
        }
        return compiled.template
    }

    static func duration(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: " ")
        guard let unit = trimmed.last, let value = Double(trimmed.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3_600
        case "d": return value * 86_400
        case "w": return value * 604_800
        default: return nil
        }
    }

    // MARK: Guidelines and rules

    mutating func parseGuideline(file: String, root: Node, index: Int) -> (guideline: Guideline, rules: [Rule])? {
        guard let mapping = root.mapping else {
            error(location(file, root), "a guideline file must be a mapping with guideline, title, text, url and rules")
            return nil
        }
        checkKeys(mapping, allowed: RuleLoader.guidelineKeys, file: file, what: "a guideline")
        let id = string(mapping["guideline"], file: file, key: "guideline", required: true, parent: root) ?? ""
        if !id.isEmpty && !id.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }) {
            error(location(file, mapping["guideline"]), "guideline id \"\(id)\" must be lowercase letters, digits, - and _")
        }
        let title = string(mapping["title"], file: file, key: "title", required: true, parent: root) ?? id
        let text = string(mapping["text"], file: file, key: "text", required: true, parent: root) ?? ""
        let url = string(mapping["url"], file: file, key: "url", required: false, parent: root) ?? ""
        let strikes = bool(mapping["strikes"], file: file, key: "strikes", default: true)
        var allow = Set<String>()
        for (word, _) in stringList(mapping["allow"], file: file, key: "allow") {
            allow.insert(Normalizer.normalizeEntry(word))
        }
        if let allowFile = mapping["allow_file"] {
            if let path = allowFile.string {
                if let entries = readWordList(path, file: file, node: allowFile) {
                    for entry in entries { allow.insert(entry.text) }
                }
            } else {
                error(location(file, allowFile), "\"allow_file\" must be a path")
            }
        }
        let guideline = Guideline(
            id: id, title: title, text: text.trimmingCharacters(in: "\n "), url: url, strikes: strikes, allow: allow,
            message: template(mapping["message"], file: file, key: "message"),
            publicNote: template(mapping["public_note"], file: file, key: "public_note"),
            location: location(file, root))
        var rules: [Rule] = []
        if let rulesNode = mapping["rules"] {
            if let sequence = rulesNode.sequence {
                for ruleNode in sequence {
                    if let rule = parseRule(file: file, node: ruleNode, guidelineIndex: index, guideline: guideline) { rules.append(rule) }
                }
            } else {
                error(location(file, rulesNode), "\"rules\" must be a list of rules")
            }
        } else {
            error(location(file, root), "missing required key \"rules\"")
        }
        return (guideline, rules)
    }

    mutating func parseRule(file: String, node: Node, guidelineIndex: Int, guideline: Guideline) -> Rule? {
        guard let mapping = node.mapping else {
            error(location(file, node), "each rule must be a mapping with at least id and action")
            return nil
        }
        checkKeys(mapping, allowed: RuleLoader.ruleKeys, file: file, what: "a rule")
        let id = string(mapping["id"], file: file, key: "id", required: true, parent: node) ?? ""
        if !id.isEmpty && !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
            error(location(file, mapping["id"]), "rule id \"\(id)\" must be letters, digits, '.', '_' and '-'")
        }
        var action = Action.flag
        if let actionText = string(mapping["action"], file: file, key: "action", required: true, parent: node) {
            if let parsed = Action(rawValue: actionText), Action.ruleActions.contains(parsed) {
                action = parsed
            } else {
                let names = Action.ruleActions.map(\.rawValue)
                let hint = DidYouMean.suggest(actionText, from: names).map { "did you mean \"\($0)\"? " } ?? ""
                let escalationHint = Action(rawValue: actionText) != nil ? " (escalations belong in escalation.yaml)" : ""
                error(location(file, mapping["action"]), "unknown action \"\(actionText)\"\(escalationHint); \(hint)actions are \(names.joined(separator: ", "))")
            }
        }
        var mode = RuleMode.enforce
        if let modeText = string(mapping["mode"], file: file, key: "mode", required: false, parent: node) {
            if let parsed = RuleMode(rawValue: modeText) { mode = parsed } else {
                error(location(file, mapping["mode"]), "unknown mode \"\(modeText)\"; modes are enforce and shadow")
            }
        }
        let routeTo = string(mapping["route_to"], file: file, key: "route_to", required: false, parent: node)
        let caseSensitive = bool(mapping["case_sensitive"], file: file, key: "case_sensitive", default: false)
        let normalize = bool(mapping["normalize"], file: file, key: "normalize", default: true)
        let view: TextView = normalize ? .normalized : .original

        // Words and phrases: one prefix tree over the normalised text.
        var entries: [WordTrie.Entry] = []
        var wordLocation: SourceLocation?
        if let wordsNode = mapping["words"] {
            wordLocation = location(file, wordsNode)
            if wordsNode.scalar != nil, let path = wordsNode.string {
                entries += readWordList(path, file: file, node: wordsNode) ?? []
            } else {
                for (word, _) in stringList(wordsNode, file: file, key: "words") { entries += Self.entries(fromLine: word) }
            }
        }
        if let phrasesNode = mapping["phrases"] {
            wordLocation = wordLocation ?? location(file, phrasesNode)
            if phrasesNode.scalar != nil, let path = phrasesNode.string {
                entries += readWordList(path, file: file, node: phrasesNode) ?? []
            } else {
                for (phrase, _) in stringList(phrasesNode, file: file, key: "phrases") { entries += Self.entries(fromLine: phrase) }
            }
        }
        var wordPattern: RulePattern?
        let allEntries = WordTrie.withCollapsedVariants(entries)
        if let wordLocation, let source = WordTrie.pattern(for: allEntries) {
            do {
                let compiled = try CompiledPattern(source, caseless: false, jit: options.jit, logger: options.logger)
                // A word list's literals are its entries themselves (masking stars are literal text).
                // The pattern is \b(?:…)(?!\w): an entry starting with a word character starts
                // a word, and a whole word (not a stem) ends one.
                let gate = LiteralPrefixes.Requirement(
                    literals: Set(allEntries.map { entry in
                        LiteralPrefixes.Literal(
                            text: entry.text,
                            wordStart: entry.text.unicodeScalars.first.map(LiteralPrefixes.isASCIIWord) ?? false,
                            wordEnd: !entry.isStem)
                    }),
                    atStart: true)
                wordPattern = RulePattern(
                    pattern: compiled, view: .normalized, usesAllowList: true, location: wordLocation, requiredLiterals: gate)
            } catch {
                self.error(wordLocation, "the word list does not compile: \(error.message)")
            }
        }

        var patterns: [RulePattern] = []
        for (source, patternNode) in stringList(mapping["patterns"], file: file, key: "patterns") {
            do {
                let compiled = try CompiledPattern(source, caseless: !caseSensitive, jit: options.jit, logger: options.logger)
                patterns.append(
                    RulePattern(
                        pattern: compiled, view: view, usesAllowList: false, location: location(file, patternNode),
                        requiredLiterals: LiteralPrefixes.extract(source)))
            } catch {
                self.error(
                    location(file, patternNode, innerLine: 1, innerColumn: error.characterOffset + 1),
                    "pattern does not compile: \(error.message)")
            }
        }

        var detectors: [DetectorKind] = []
        for (name, detectorNode) in stringList(mapping["detect"], file: file, key: "detect") {
            if let kind = DetectorKind(rawValue: name) {
                detectors.append(kind)
            } else {
                let names = DetectorKind.allCases.map(\.rawValue)
                let hint = DidYouMean.suggest(name, from: names).map { "did you mean \"\($0)\"? " } ?? ""
                error(location(file, detectorNode), "unknown detector \"\(name)\"; \(hint)detectors are \(names.joined(separator: ", "))")
            }
        }

        let conditions = parseConditions(mapping["when"], file: file)
        let ruleLocation = location(file, node)
        if wordPattern == nil && patterns.isEmpty && detectors.isEmpty && conditions.isEmpty
            && mapping["words"] == nil && mapping["phrases"] == nil && mapping["patterns"] == nil && mapping["detect"] == nil
        {
            error(ruleLocation, "rule \"\(id)\" has nothing to match: give words, phrases, patterns, detect or when")
        }
        if action == .route && routeTo == nil {
            warning(ruleLocation, "rule \"\(id)\" routes without route_to; the team to notify will be empty")
        }

        var examples: [RuleExample] = []
        if let examplesNode = mapping["examples"] {
            if let examplesMapping = examplesNode.mapping {
                checkKeys(examplesMapping, allowed: ["match", "no_match"], file: file, what: "examples")
                for (key, shouldMatch) in [("match", true), ("no_match", false)] {
                    guard let list = examplesMapping[key] else { continue }
                    guard let sequence = list.sequence else {
                        error(location(file, list), "examples.\(key) must be a list")
                        continue
                    }
                    for item in sequence {
                        if let example = parseExample(item, file: file, shouldMatch: shouldMatch) { examples.append(example) }
                    }
                }
            } else {
                error(location(file, examplesNode), "\"examples\" must be a mapping with match and no_match lists")
            }
        }

        return Rule(
            id: id, guidelineIndex: guidelineIndex,
            description: string(mapping["description"], file: file, key: "description", required: false, parent: node),
            action: action, routeTo: routeTo, mode: mode,
            strikes: mapping["strikes"].map { _ in bool(mapping["strikes"], file: file, key: "strikes", default: guideline.strikes) },
            wordPattern: wordPattern, patterns: patterns, detectors: detectors,
            conditions: conditions,
            message: template(mapping["message"], file: file, key: "message"),
            publicNote: template(mapping["public_note"], file: file, key: "public_note"),
            examples: examples, location: ruleLocation)
    }

    private mutating func parseExample(_ node: Node, file: String, shouldMatch: Bool) -> RuleExample? {
        if node.scalar != nil, let text = node.string {
            return RuleExample(text: text, repeatCount: 1, shouldMatch: shouldMatch, location: location(file, node))
        }
        guard let mapping = node.mapping else {
            error(location(file, node), "an example is text, or {text: ..., repeat: N}")
            return nil
        }
        checkKeys(mapping, allowed: ["text", "repeat"], file: file, what: "an example")
        guard let text = string(mapping["text"], file: file, key: "text", required: true, parent: node) else { return nil }
        var repeatCount = 1
        if let repeatNode = mapping["repeat"] {
            if let value = repeatNode.int, value >= 1, value <= 1_000 { repeatCount = value } else {
                error(location(file, repeatNode), "\"repeat\" must be a whole number from 1 to 1000")
            }
        }
        return RuleExample(text: text, repeatCount: repeatCount, shouldMatch: shouldMatch, location: location(file, node))
    }

    private mutating func parseConditions(_ node: Node?, file: String) -> Conditions {
        var conditions = Conditions()
        guard let node else { return conditions }
        guard let mapping = node.mapping else {
            error(location(file, node), "\"when\" must be a mapping of conditions")
            return conditions
        }
        checkKeys(mapping, allowed: RuleLoader.conditionKeys, file: file, what: "when")
        func bounds(_ key: String, allowed: Set<String>) -> Node.Mapping? {
            guard let value = mapping[key] else { return nil }
            guard let inner = value.mapping else {
                error(location(file, value), "\"\(key)\" must be a mapping such as {at_least: 3}")
                return nil
            }
            checkKeys(inner, allowed: allowed, file: file, what: key)
            return inner
        }
        func int(_ inner: Node.Mapping, _ key: String, in condition: String) -> Int? {
            guard let value = inner[key] else { return nil }
            guard let number = value.int, number >= 0 else {
                error(location(file, value), "\(condition).\(key) must be a whole number")
                return nil
            }
            return number
        }
        func within(_ inner: Node.Mapping, in condition: String) -> TimeInterval? {
            guard let value = inner["within"] else {
                error(location(file, mapping[condition]), "\(condition) needs \"within\" (a duration such as 10m or 24h)")
                return nil
            }
            guard let text = value.string, let seconds = Self.duration(text), seconds > 0 else {
                error(location(file, value), "\(condition).within must be a duration such as 30s, 10m, 24h or 30d")
                return nil
            }
            return seconds
        }
        if let inner = bounds("links", allowed: ["at_least"]) { conditions.linksAtLeast = int(inner, "at_least", in: "links") }
        if let inner = bounds("mentions", allowed: ["at_least"]) { conditions.mentionsAtLeast = int(inner, "at_least", in: "mentions") }
        if let inner = bounds("repeated_chars", allowed: ["at_least"]) {
            conditions.repeatedCharsAtLeast = int(inner, "at_least", in: "repeated_chars")
        }
        if let inner = bounds("length", allowed: ["at_least", "at_most"]) {
            conditions.lengthAtLeast = int(inner, "at_least", in: "length")
            conditions.lengthAtMost = int(inner, "at_most", in: "length")
        }
        if let inner = bounds("caps", allowed: ["at_least", "min_letters"]) {
            if let value = inner["at_least"] {
                if let ratio = value.float, ratio >= 0, ratio <= 1 { conditions.capsAtLeast = ratio } else {
                    error(location(file, value), "caps.at_least must be a share between 0 and 1, such as 0.7")
                }
            }
            if let minLetters = int(inner, "min_letters", in: "caps") { conditions.capsMinLetters = minLetters }
        }
        if let inner = bounds("repeat_post", allowed: ["within"]) { conditions.repeatPostWithin = within(inner, in: "repeat_post") }
        if let inner = bounds("flood", allowed: ["at_least", "within"]) {
            if let count = int(inner, "at_least", in: "flood"), let seconds = within(inner, in: "flood") {
                conditions.flood = Conditions.Flood(count: count, within: seconds)
            }
        }
        if let inner = bounds("authors", allowed: ["except"]) {
            conditions.exceptAuthors = Set(stringList(inner["except"], file: file, key: "authors.except").map(\.0))
        }
        if let scoreNode = mapping["score"] { conditions.score = parseScore(scoreNode, file: file) }
        for (name, node) in stringList(mapping["unless_guideline"], file: file, key: "unless_guideline") {
            conditions.unlessGuidelines.append(name)
            guidelineReferences.append((name, location(file, node)))
        }
        return conditions
    }

    // MARK: Word lists

    /// Entries from one word-list line: a trailing `*` after a letter marks a stem (`fuck*`);
    /// stars after a star are a literal mask (`f***`).
    static func entries(fromLine line: String) -> [WordTrie.Entry] {
        var text = line.trimmingCharacters(in: " \t\r")
        guard !text.isEmpty else { return [] }
        var isStem = false
        if text.hasSuffix("*"), text.count > 2, text.dropLast().last != "*" {
            isStem = true
            text.removeLast()
        }
        let normalized = Normalizer.normalizeEntry(text)
        guard !normalized.isEmpty else { return [] }
        return [WordTrie.Entry(text: normalized, isStem: isStem)]
    }

    private mutating func readWordList(_ path: String, file: String, node: Node) -> [WordTrie.Entry]? {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            error(location(file, node), "word list \"\(path)\" must be a path inside the rules directory")
            return nil
        }
        guard let data = contents(of: path) else {
            error(location(file, node), "word list \"\(path)\" not found in \(directory)")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            error(SourceLocation(file: path, line: 1, column: 1), "the word list is not valid UTF-8")
            return nil
        }
        var entries: [WordTrie.Entry] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            // A comment starts at a '#' at the start of the line or after a space,
            // so that a masked entry such as f#ck stays an entry.
            if line.first == "#" { continue }
            if let range = line.range(of: " #") { line = line[..<range.lowerBound] }
            entries += Self.entries(fromLine: String(line))
        }
        return entries
    }

    // MARK: Escalation

    mutating func parseEscalation(file: String, root: Node, guidelines: Set<String>) -> EscalationPolicy {
        var policy = EscalationPolicy()
        guard let mapping = root.mapping else {
            error(location(file, root), "escalation.yaml must be a mapping with window, count and thresholds")
            return policy
        }
        checkKeys(mapping, allowed: RuleLoader.escalationKeys, file: file, what: "escalation.yaml")
        if let windowNode = mapping["window"] {
            if let text = windowNode.string, let seconds = Self.duration(text), seconds > 0 { policy.window = seconds } else {
                error(location(file, windowNode), "window must be a duration such as 30d")
            }
        }
        for (name, node) in stringList(mapping["count"], file: file, key: "count") {
            if guidelines.contains(name) {
                policy.counted.insert(name)
            } else {
                let hint = DidYouMean.suggest(name, from: guidelines).map { "; did you mean \"\($0)\"?" } ?? ""
                error(location(file, node), "unknown guideline \"\(name)\" in count\(hint)")
            }
        }
        if let thresholds = mapping["thresholds"] {
            guard let sequence = thresholds.sequence else {
                error(location(file, thresholds), "thresholds must be a list of {strikes: N, action: hold_author|block_author}")
                return policy
            }
            for item in sequence {
                guard let entry = item.mapping else {
                    error(location(file, item), "each threshold is {strikes: N, action: hold_author|block_author}")
                    continue
                }
                checkKeys(entry, allowed: ["strikes", "action"], file: file, what: "a threshold")
                guard let strikes = entry["strikes"]?.int, strikes > 0 else {
                    error(location(file, entry["strikes"] ?? item), "strikes must be a whole number above 0")
                    continue
                }
                let actionText = entry["action"]?.string ?? ""
                guard let action = Action(rawValue: actionText), action == .holdAuthor || action == .blockAuthor else {
                    error(location(file, entry["action"] ?? item), "threshold action must be hold_author or block_author, not \"\(actionText)\"")
                    continue
                }
                policy.thresholds.append(EscalationPolicy.Threshold(strikes: strikes, action: action))
            }
            policy.thresholds.sort { $0.strikes < $1.strikes }
        }
        return policy
    }

    // MARK: Backtracking

    /// Warns about the shapes of pattern known to backtrack catastrophically: a quantified
    /// group whose body is itself quantified, such as `(a+)+` or `(\w+\s?)*`, and a quantified
    /// alternation whose branches can match the same text, such as `(?:a|a)*` or `(\w|\d)+`.
    /// The match limits keep such a pattern from hanging a worker, but a post that hits them
    /// is held.
    mutating func checkBacktracking(_ rule: Rule) {
        for pattern in rule.patterns {
            switch ReDoSCheck.shape(of: pattern.pattern.source) {
            case nil:
                continue
            case .nestedQuantifier:
                warning(
                    pattern.location,
                    "pattern in rule \"\(rule.id)\" has a quantified group containing a quantifier (like (a+)+); it may backtrack badly on long posts. Posts that hit the match limit are held for review")
            case .overlappingAlternation:
                warning(
                    pattern.location,
                    "pattern in rule \"\(rule.id)\" repeats an alternation whose branches can match the same text (like (\\w|\\d)+ or (?:a|a)*); it may backtrack badly on long posts. Make the branches exclusive or use a character class. Posts that hit the match limit are held for review")
            }
        }
    }
}
