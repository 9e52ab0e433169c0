/// What Warden asks a connector to do with a post, from mildest to strongest.
///
/// The order is the precedence: when several rules match, the strongest action wins.
/// `holdAuthor` and `blockAuthor` are author-level escalations decided by the strike policy,
/// not by a single rule, and rank above every post-level action.
public enum Action: String, Sendable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case allow, flag, route, hold, hide, delete
    case holdAuthor = "hold_author"
    case blockAuthor = "block_author"

    /// Position in the precedence order.
    public var strength: Int {
        switch self {
        case .allow: 0
        case .flag: 1
        case .route: 2
        case .hold: 3
        case .hide: 4
        case .delete: 5
        case .holdAuthor: 6
        case .blockAuthor: 7
        }
    }

    /// Actions a rule may name; escalations come only from `escalation.yaml`.
    public static let ruleActions: [Action] = [.allow, .flag, .route, .hold, .hide, .delete]

    /// Whether the post is taken out of public view: such actions are sanctions and may count as strikes.
    public var isSanction: Bool { strength >= Action.hold.strength }

    /// Past participle for messages ("your post has been removed").
    public var pastTense: String {
        switch self {
        case .allow: "allowed"
        case .flag: "flagged"
        case .route: "passed on"
        case .hold: "held for review"
        case .hide: "hidden"
        case .delete: "removed"
        case .holdAuthor: "held for review"
        case .blockAuthor: "blocked"
        }
    }

    public static func < (lhs: Action, rhs: Action) -> Bool { lhs.strength < rhs.strength }
    public var description: String { rawValue }
}
