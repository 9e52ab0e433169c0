import Crypto
import Foundation
import Yams

/// Shipped rules and local edits, kept apart as fail2ban keeps jail.conf and jail.local.
///
/// A package ships the guidelines in a directory nobody edits (`/usr/share/warden/rules`,
/// replaced by every upgrade); moderators write only in the local directory
/// (`/etc/warden/rules.d`, never touched by an upgrade). The effective rules are the
/// shipped ones with the local files applied, in file-name order:
///
/// - a local file for a guideline that is not shipped adds it (a complete guideline file);
/// - a local file naming a shipped guideline with `guideline:` and `rules:` only changes
///   that guideline's rules: a rule with a shipped rule's id replaces it, a new id is added;
///   a rule entry with only `id` and `mode` switches a shipped rule to `shadow`, back to
///   `enforce`, or `off` (removed) without copying it;
/// - a local file with `title:` for a shipped guideline replaces that guideline whole;
/// - a local `escalation.yaml` replaces the shipped one.
///
/// The two directories are given as one path, `SHIPPED:LOCAL`, so everything that takes a
/// rules directory (the daemon's reload included) takes an overlay unchanged.
public struct RuleOverlay: Sendable {
    public var shipped: String
    public var local: String

    /// Where an effective rule came from, for `warden check --origins`.
    public struct Origin: Sendable, Equatable {
        public enum Kind: String, Sendable { case shipped, local, replaced, switched }
        public var rule: String
        public var kind: Kind
        /// The file and position that decided the rule (the local switch for `switched`).
        public var location: SourceLocation
        /// For `switched`: the mode set locally (`shadow`, `enforce`).
        public var mode: String?
    }

    public struct Loaded: Sendable {
        public var ruleSet: RuleSet
        public var origins: [Origin]
        /// Rules switched `off` locally, with the switch's location.
        public var removed: [Origin]
    }

    /// Nil unless `path` is `SHIPPED:LOCAL` with both parts non-empty.
    public init?(path: String) {
        let parts = path.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        shipped = String(parts[0])
        local = String(parts[1])
    }

    public init(shipped: String, local: String) {
        self.shipped = shipped
        self.local = local
    }

    public var path: String { shipped + ":" + local }

    /// The effective rules while local files are applied.
    struct Draft {
        var guidelines: [Guideline]
        var rules: [Rule]
        var escalation: EscalationPolicy
        var digest: String
    }

    /// Keys a rule entry may have and still be a switch rather than a replacement.
    static let switchKeys: Set<String> = ["id", "mode"]
    static let switchModes = ["enforce", "shadow", "off"]

    /// The effective rules and where each came from; with `runExamples`, every example of the
    /// effective rules must hold, as for a single directory.
    public func load(runExamples: Bool = true, options: MatchingOptions = MatchingOptions()) throws(RuleLoadError) -> Loaded {
        var shippedContext = LoadContext(directory: shipped, options: options, read: { FileManager.default.contents(atPath: $0) })
        let base = shippedContext.load()
        var diagnostics = shippedContext.diagnostics.map { Self.qualified($0, in: shipped) }
        guard let base else { throw RuleLoadError(diagnostics: diagnostics) }
        var ruleSet = Draft(guidelines: base.guidelines.map { Self.qualified($0, in: shipped) },
                            rules: base.rules.map { Self.qualified($0, in: shipped) }, escalation: base.escalation, digest: base.digest)

        var origins: [String: Origin] = [:]
        for rule in ruleSet.rules { origins[rule.id] = Origin(rule: rule.id, kind: .shipped, location: rule.location) }
        var removed: [Origin] = []
        var context = LoadContext(directory: local, options: options, read: { FileManager.default.contents(atPath: $0) })
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: local, isDirectory: &isDirectory), isDirectory.boolValue {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: local).filter { !$0.hasPrefix(".") }.sorted()
            } catch {
                throw RuleLoadError(diagnostics: diagnostics + [Diagnostic(SourceLocation(file: local, line: 1, column: 1), "cannot list the local rules directory: \(error.localizedDescription)")])
            }
            var escalationRoot: (String, Node)?
            for name in names where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                guard let root = context.parseYAML(name) else { continue }
                if name == "escalation.yaml" || name == "escalation.yml" {
                    escalationRoot = (name, root)
                    continue
                }
                apply(file: name, root: root, to: &ruleSet, origins: &origins, removed: &removed, context: &context)
            }
            if let (name, root) = escalationRoot {
                ruleSet.escalation = context.parseEscalation(file: name, root: root, guidelines: Set(ruleSet.guidelines.map(\.id)))
            }
            let guidelineIDs = ruleSet.guidelines.map(\.id)
            for (name, location) in context.guidelineReferences where !guidelineIDs.contains(name) {
                let hint = DidYouMean.suggest(name, from: guidelineIDs).map { "; did you mean \"\($0)\"?" } ?? ""
                context.error(location, "unknown guideline \"\(name)\" in unless_guideline\(hint)")
            }
        }
        diagnostics += context.diagnostics.map { Self.qualified($0, in: local) }
        // The local files and word lists as they were parsed (never a second read a save could
        // slip between), so the digest names exactly the rules in force.
        let localDigest = LoadContext.digest(of: context.filesRead)
        let digest = "sha256:" + SHA256.hash(data: Data((ruleSet.digest + "\n" + localDigest).utf8)).map { String(format: "%02x", $0) }.joined()
        // Score conditions of the effective rules (shipped or local) point into the shipped
        // models, loaded once by the shipped load (its cached bytes are what the digest hashed).
        var effectiveRules = ruleSet.rules
        let problemsBefore = shippedContext.diagnostics.count
        let models = shippedContext.loadModels(for: &effectiveRules)
        diagnostics += shippedContext.diagnostics.dropFirst(problemsBefore).map { Self.qualified($0, in: shipped) }
        var merged = RuleSet(guidelines: ruleSet.guidelines, rules: effectiveRules, escalation: ruleSet.escalation,
                             digest: digest, directory: path, warnings: [], models: models, gatePatterns: options.gatePatterns)
        if runExamples, diagnostics.allSatisfy({ $0.severity != .error }) {
            for failure in ExampleRunner.run(merged).failures {
                diagnostics.append(Diagnostic(failure.example.location, failure.summary))
            }
        }
        guard diagnostics.allSatisfy({ $0.severity != .error }) else { throw RuleLoadError(diagnostics: diagnostics) }
        merged.warnings = diagnostics
        return Loaded(ruleSet: merged, origins: merged.rules.compactMap { origins[$0.id] }, removed: removed)
    }

    /// Applies one local guideline file.
    private func apply(file: String, root: Node, to ruleSet: inout Draft, origins: inout [String: Origin],
                       removed: inout [Origin], context: inout LoadContext) {
        let qualifiedFile = local + "/" + file
        guard let mapping = root.mapping, let id = mapping["guideline"]?.string else {
            context.error(context.location(file, root), "a local rules file must name its guideline (guideline: ID): a new one, or a shipped one to change")
            return
        }
        guard let index = ruleSet.guidelines.firstIndex(where: { $0.id == id }) else {
            // A new guideline, complete like a shipped file.
            guard let parsed = context.parseGuideline(file: file, root: root, index: ruleSet.guidelines.count) else { return }
            let known = Set(ruleSet.rules.map(\.id))
            ruleSet.guidelines.append(Self.qualified(parsed.guideline, in: local))
            for rule in parsed.rules {
                if known.contains(rule.id) {
                    context.error(rule.location, "rule id \"\(rule.id)\" is already a shipped rule (\(origins[rule.id]?.location.description ?? "")); to replace it, put it in a file with guideline: \(ruleSet.guidelines[ruleSet.rules.first { $0.id == rule.id }?.guidelineIndex ?? 0].id)")
                    continue
                }
                let qualifiedRule = Self.qualified(rule, in: local)
                ruleSet.rules.append(qualifiedRule)
                context.checkBacktracking(rule)
                origins[rule.id] = Origin(rule: rule.id, kind: .local, location: qualifiedRule.location)
            }
            return
        }
        if mapping["title"] != nil {
            // A whole replacement of the shipped guideline.
            guard let parsed = context.parseGuideline(file: file, root: root, index: index) else { return }
            for rule in ruleSet.rules where rule.guidelineIndex == index { origins[rule.id] = nil }
            ruleSet.rules.removeAll { $0.guidelineIndex == index }
            ruleSet.guidelines[index] = Self.qualified(parsed.guideline, in: local)
            for rule in parsed.rules {
                let qualifiedRule = Self.qualified(rule, in: local)
                ruleSet.rules.append(qualifiedRule)
                context.checkBacktracking(rule)
                origins[rule.id] = Origin(rule: rule.id, kind: .replaced, location: qualifiedRule.location)
            }
            return
        }
        for (keyNode, _) in mapping {
            guard let key = keyNode.string, key != "guideline", key != "rules" else { continue }
            context.error(context.location(file, keyNode),
                          "\"\(key)\" cannot be changed alone for the shipped guideline \"\(id)\": a local file for it has only guideline and rules, or is a whole guideline file with title and text")
        }
        guard let sequence = mapping["rules"]?.sequence else {
            context.error(context.location(file, mapping["rules"] ?? root), "\"rules\" must be a list of rules to add, replace or switch")
            return
        }
        for ruleNode in sequence {
            let keys = Set(ruleNode.mapping?.keys.compactMap(\.string) ?? [])
            if !keys.isEmpty, keys.isSubset(of: Self.switchKeys), keys.contains("mode"), let ruleID = ruleNode.mapping?["id"]?.string {
                let modeNode = ruleNode.mapping?["mode"]
                let mode = modeNode?.string ?? ""
                let switchLocation = SourceLocation(file: qualifiedFile, line: modeNode?.mark?.line ?? 1, column: modeNode?.mark?.column ?? 1)
                guard Self.switchModes.contains(mode) else {
                    context.error(context.location(file, modeNode), "unknown mode \"\(mode)\"; a local switch sets enforce, shadow or off")
                    continue
                }
                guard let ruleIndex = ruleSet.rules.firstIndex(where: { $0.id == ruleID }) else {
                    let hint = DidYouMean.suggest(ruleID, from: ruleSet.rules.map(\.id)).map { "; did you mean \"\($0)\"?" } ?? ""
                    context.error(context.location(file, ruleNode.mapping?["id"]), "no rule \"\(ruleID)\" to switch\(hint)")
                    continue
                }
                if mode == "off" {
                    removed.append(Origin(rule: ruleID, kind: .switched, location: switchLocation, mode: "off"))
                    origins[ruleID] = nil
                    ruleSet.rules.remove(at: ruleIndex)
                } else {
                    ruleSet.rules[ruleIndex].mode = mode == "shadow" ? .shadow : .enforce
                    origins[ruleID] = Origin(rule: ruleID, kind: .switched, location: switchLocation, mode: mode)
                }
                continue
            }
            guard let parsed = context.parseRule(file: file, node: ruleNode, guidelineIndex: index, guideline: ruleSet.guidelines[index]) else { continue }
            let rule = Self.qualified(parsed, in: local)
            context.checkBacktracking(parsed)
            if let existing = ruleSet.rules.firstIndex(where: { $0.id == rule.id }) {
                guard ruleSet.rules[existing].guidelineIndex == index else {
                    context.error(parsed.location, "rule \"\(rule.id)\" belongs to guideline \"\(ruleSet.guidelines[ruleSet.rules[existing].guidelineIndex].id)\"; replace it from a file with that guideline")
                    continue
                }
                ruleSet.rules[existing] = rule
                origins[rule.id] = Origin(rule: rule.id, kind: .replaced, location: rule.location)
            } else {
                ruleSet.rules.append(rule)
                origins[rule.id] = Origin(rule: rule.id, kind: .local, location: rule.location)
            }
        }
    }

    // MARK: Full paths
    //
    // LoadContext names files relative to its directory. With two directories a bare
    // "profanity.yaml" is ambiguous, so every location is made a full path.

    static func qualified(_ location: SourceLocation, in directory: String) -> SourceLocation {
        guard !location.file.hasPrefix("/"), !location.file.hasPrefix(directory) else { return location }
        var copy = location
        copy.file = directory + "/" + location.file
        return copy
    }

    static func qualified(_ diagnostic: Diagnostic, in directory: String) -> Diagnostic {
        Diagnostic(qualified(diagnostic.location, in: directory), diagnostic.message, severity: diagnostic.severity)
    }

    static func qualified(_ guideline: Guideline, in directory: String) -> Guideline {
        var copy = guideline
        copy.location = qualified(guideline.location, in: directory)
        return copy
    }

    static func qualified(_ rule: Rule, in directory: String) -> Rule {
        var copy = rule
        copy.location = qualified(rule.location, in: directory)
        if let location = rule.wordPattern?.location { copy.wordPattern?.location = qualified(location, in: directory) }
        for index in copy.patterns.indices { copy.patterns[index].location = qualified(copy.patterns[index].location, in: directory) }
        for index in copy.examples.indices { copy.examples[index].location = qualified(copy.examples[index].location, in: directory) }
        return copy
    }
}
