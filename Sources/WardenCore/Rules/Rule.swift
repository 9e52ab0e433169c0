import Foundation

/// Where something was written in a rules directory, for messages a moderator can act on.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One published community guideline: what posters are told, and the rules that enforce it.
public struct Guideline: Sendable {
    public var id: String
    public var title: String
    public var text: String
    public var url: String
    /// Whether breaking it counts towards the author's strikes (complaints and personal data do not).
    public var strikes: Bool
    /// Words never caught by this guideline's rules on their own (Scunthorpe, cocktail, …), normalised.
    public var allow: Set<String>
    public var message: MessageTemplate?
    public var publicNote: MessageTemplate?
    public var location: SourceLocation
}

/// Whether a rule's decisions take effect.
public enum RuleMode: String, Sendable, Codable {
    /// The rule's action is applied.
    case enforce
    /// The rule is judged and logged but never changes a decision: for trying a rule on live traffic.
    case shadow
}

/// Which text a pattern sees.
public enum TextView: Sendable {
    /// Lowercased, de-obfuscated text (the default): what words, phrases and most patterns want.
    case normalized
    /// The post as written: for patterns about digits, URLs or punctuation.
    case original
}

/// One rule's pattern, compiled, and the text it runs on.
public struct RulePattern: Sendable {
    public var pattern: CompiledPattern
    public var view: TextView
    /// Whether the guideline's allow-list filters this pattern's matches (words and phrases).
    public var usesAllowList: Bool
    public var location: SourceLocation
    /// Literals one of which every match contains, or nil: then the pattern runs on every post.
    var requiredLiterals: LiteralPrefixes.Requirement?
}

/// `when` conditions: all must hold for the rule to match.
public struct Conditions: Sendable, Equatable {
    public var linksAtLeast: Int?
    public var mentionsAtLeast: Int?
    public var capsAtLeast: Double?
    public var capsMinLetters: Int = 20
    public var repeatedCharsAtLeast: Int?
    public var lengthAtLeast: Int?
    public var lengthAtMost: Int?
    /// `repeat_post`: the same normalised text by the same author within this many seconds.
    public var repeatPostWithin: TimeInterval?
    /// `flood`: at least `count` posts by the author within `within` seconds, this one included.
    public var flood: Flood?
    public var exceptAuthors: Set<String> = []
    /// `unless_guideline`: the rule stands down when an enforced rule of one of these
    /// guidelines sanctions the post (holds, hides or deletes it): a spammer's phone number
    /// is part of the spam, not personal data to protect.
    public var unlessGuidelines: [String] = []
    /// `score`: a learned model's score for the post lies in a band (`ScoreCondition`).
    public var score: ScoreCondition?

    public struct Flood: Sendable, Equatable {
        public var count: Int
        public var within: TimeInterval
    }

    public init() {}

    public var isEmpty: Bool { self == Conditions() }

    /// Whether a condition on the text's statistics (links, mentions, capitals, repeated
    /// characters, length) is set: those `TextStats` answers.
    var hasTextConditions: Bool {
        linksAtLeast != nil || mentionsAtLeast != nil || capsAtLeast != nil || repeatedCharsAtLeast != nil
            || lengthAtLeast != nil || lengthAtMost != nil
    }

    /// Whether the conditions on the text's statistics hold (true when there are none).
    func textConditionsHold(_ stats: TextStats) -> Bool {
        if let n = linksAtLeast, stats.links < n { return false }
        if let n = mentionsAtLeast, stats.mentions < n { return false }
        if let ratio = capsAtLeast {
            if stats.letters < capsMinLetters || stats.capsRatio < ratio { return false }
        }
        if let n = repeatedCharsAtLeast, stats.longestRun < n { return false }
        if let n = lengthAtLeast, stats.scalars < n { return false }
        if let n = lengthAtMost, stats.scalars > n { return false }
        return true
    }
}

/// An example a moderator wrote to show what a rule must and must not catch.
public struct RuleExample: Sendable {
    public var text: String
    /// How many times the same author posted it in a row (for repeat and flood rules).
    public var repeatCount: Int
    public var shouldMatch: Bool
    public var location: SourceLocation
}

/// One rule: matchers, conditions and the action to take.
public struct Rule: Sendable {
    public var id: String
    public var guidelineIndex: Int
    public var description: String?
    public var action: Action
    public var routeTo: String?
    public var mode: RuleMode
    /// Overrides the guideline's `strikes` for this rule (a held bare link need not count).
    public var strikes: Bool?
    /// Words and phrases as one prefix-tree pattern over the normalised text.
    public var wordPattern: RulePattern?
    public var patterns: [RulePattern]
    public var detectors: [DetectorKind]
    public var conditions: Conditions
    public var message: MessageTemplate?
    public var publicNote: MessageTemplate?
    public var examples: [RuleExample]
    public var location: SourceLocation

    /// Every pattern of the rule, words first.
    public var allPatterns: [RulePattern] { (wordPattern.map { [$0] } ?? []) + patterns }
    /// Whether the rule has anything to search for; without, only its conditions decide.
    public var hasMatchers: Bool { wordPattern != nil || !patterns.isEmpty || !detectors.isEmpty }
}
