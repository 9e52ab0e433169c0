import Foundation
import Yams

/// The `score` condition: the rule holds when a learned model's score for the post is in
/// `[atLeast, below)`. Two rules on one model with adjoining bands give a graded response
/// (a high score hides, a middling one holds for review); the score is computed once per
/// post however many rules ask for it.
public struct ScoreCondition: Sendable, Equatable {
    /// The model's name: `rules/models/NAME.model`.
    public var model: String
    public var atLeast: Double
    public var below: Double
    public var location: SourceLocation
    /// Index into `RuleSet.models`, set when the models are loaded.
    var modelIndex = -1

    public func holds(_ score: Double) -> Bool { score >= atLeast && score < below }

    /// Where a rules directory keeps its models.
    public static func path(ofModel name: String, in directory: String) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + "models/" + name + ".model"
    }
}

extension LoadContext {
    /// Reads `score: {model: NAME, at_least: 0.9, below: 0.97}`.
    mutating func parseScore(_ node: Node, file: String) -> ScoreCondition? {
        guard let mapping = node.mapping else {
            error(location(file, node), "\"score\" must be a mapping such as {model: personal_attack, at_least: 0.92}")
            return nil
        }
        let allowed: Set<String> = ["model", "at_least", "below"]
        for (key, _) in mapping {
            guard let name = key.string, allowed.contains(name) else {
                let hint = key.string.flatMap { DidYouMean.suggest($0, from: allowed) }.map { "; did you mean \"\($0)\"?" } ?? ""
                error(location(file, key), "unknown key \"\(key.string ?? "?")\" in score\(hint); keys are model, at_least and below")
                continue
            }
        }
        guard let modelNode = mapping["model"], let model = modelNode.string, !model.isEmpty else {
            error(location(file, node), "score needs \"model\", the name of a file in models/ (without .model)")
            return nil
        }
        guard model.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            error(location(file, modelNode), "model name \"\(model)\" must be lowercase letters, digits, - and _")
            return nil
        }
        func share(_ key: String) -> Double? {
            guard let value = mapping[key] else { return nil }
            guard let number = value.float, number >= 0, number <= 1 else {
                error(location(file, value), "score.\(key) must be a number between 0 and 1, such as 0.9")
                return nil
            }
            return number
        }
        let atLeast = share("at_least"), below = share("below")
        guard atLeast != nil || below != nil else {
            error(location(file, node), "score needs \"at_least\" or \"below\" (a number between 0 and 1)")
            return nil
        }
        let condition = ScoreCondition(model: model, atLeast: atLeast ?? 0, below: below.map { $0 } ?? .infinity, location: location(file, node))
        if condition.atLeast >= condition.below {
            error(location(file, node), "score.at_least (\(condition.atLeast)) must be below score.below (\(condition.below))")
        }
        return condition
    }

    /// Loads every model the rules name (once each) and points their conditions at it.
    mutating func loadModels(for rules: inout [Rule]) -> [TextModel] {
        var models: [TextModel] = []
        var indices: [String: Int] = [:]
        var failed: Set<String> = []
        for r in rules.indices {
            guard let score = rules[r].conditions.score else { continue }
            if let index = indices[score.model] {
                rules[r].conditions.score?.modelIndex = index
                continue
            }
            if failed.contains(score.model) { continue }
            do throws(ModelFileError) {
                // Read through the load's one read of each file, so the model's bytes are part
                // of the ruleset digest exactly as they were decoded.
                let path = ScoreCondition.path(ofModel: score.model, in: directory)
                guard let data = contents(of: "models/" + score.model + ".model") else {
                    throw ModelFileError(path: path, reason: "model file not found or not readable; build it with `make models` or `warden learn`")
                }
                let model = try ModelFile.decode([UInt8](data), path: path)
                indices[score.model] = models.count
                rules[r].conditions.score?.modelIndex = models.count
                models.append(model)
            } catch {
                failed.insert(score.model)
                self.error(score.location, "model \"\(score.model)\": \(error)")
            }
        }
        return models
    }
}
