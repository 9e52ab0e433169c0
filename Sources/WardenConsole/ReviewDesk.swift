import Foundation
import WardenCore

/// What a moderator decided about one queue item (or one past decision).
public enum Verdict: String, Sendable, CaseIterable {
    /// A held post was fine: put it back up.
    case released
    /// A held post broke a guideline: hide or delete it, with a message.
    case removed
    /// An appeal rejected: the decision stands.
    case upheld = "appeal_upheld"
    /// An appeal accepted: the post is restored and its strike taken back.
    case overturned = "appeal_overturned"
    /// A past automatic hide or delete was wrong ("should not have been removed").
    case restored
    /// A past post that was let through should have been removed ("should have been removed").
    case missed

    /// Verdicts that say the rules were wrong to act: they count as reversals of the rule.
    public var isReversal: Bool { self == .released || self == .overturned || self == .restored }

    /// What the moderator did, for sentences ("alice already released this at …").
    public var pastTense: String {
        switch self {
        case .released: "released"
        case .removed: "removed"
        case .upheld: "upheld the appeal on"
        case .overturned: "overturned the decision on"
        case .restored: "restored"
        case .missed: "removed"
        }
    }

    var templateOutcome: ReviewTemplates.Outcome {
        switch self {
        case .released: .released
        case .removed, .missed: .removed
        case .upheld: .appealUpheld
        case .overturned: .appealOverturned
        case .restored: .restored
        }
    }
}

/// One entry of the review queue.
public struct QueueItem: Sendable, Equatable {
    public var itemID: String
    public var postID: String
    /// `held`, `appeal` or `past` (a correction of a past decision, never listed in the queue).
    public var kind: String
    public var status: String
    public var version: Int
    public var queuedAt: Date
    public var claimedBy: String?
    public var claimedUntil: Date?
    public var resolvedBy: String?
    public var resolvedAt: Date?
    public var outcome: String?
    public var author: String
    public var guidelines: [String]
    public var rules: [String]
    /// The instance whose daemon judged the post (its `instance` name); nil for items
    /// indexed before instances were recorded.
    public var instance: String?
    /// The ruleset digest the post was judged with (`sha256:…`, as in the decision).
    public var ruleset: String?

    init(row: SQLRow) throws {
        itemID = try row["item_id"]
        postID = try row["post_id"]
        kind = try row["kind"]
        status = try row["status"]
        version = try row["version"]
        queuedAt = Date(timeIntervalSince1970: try row["queued_at"])
        claimedBy = try row["claimed_by"]
        claimedUntil = (try row["claimed_until"] as Double?).map(Date.init(timeIntervalSince1970:))
        resolvedBy = try row["resolved_by"]
        resolvedAt = (try row["resolved_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        outcome = try row["outcome"]
        author = try row["author"]
        guidelines = ListColumn.decode(try row["guidelines"])
        rules = ListColumn.decode(try row["rules"])
        instance = try row["instance"]
        ruleset = try row["ruleset"]
    }
}

/// Queue filters (all optional, combined with AND).
public struct QueueFilter: Sendable, Equatable {
    public var guideline: String?
    public var rule: String?
    public var author: String?
    public init(guideline: String? = nil, rule: String? = nil, author: String? = nil) {
        self.guideline = guideline?.isEmpty == true ? nil : guideline
        self.rule = rule?.isEmpty == true ? nil : rule
        self.author = author?.isEmpty == true ? nil : author
    }
}

/// The outcome of opening an item.
public enum Claim: Sendable, Equatable {
    /// This moderator holds the claim until `until`.
    case mine(version: Int, until: Date)
    /// Another moderator is on it.
    case held(by: String, until: Date, version: Int)
    /// Somebody already acted.
    case resolved(by: String, outcome: String, at: Date)
    case missing
}

/// A moderator's submission for one item; `version` is the one the page was rendered with.
public struct ReviewSubmission: Sendable {
    public var itemID: String
    public var version: Int
    public var moderator: String
    public var verdict: Verdict
    /// `hide` or `delete` for removals; ignored otherwise.
    public var removal: String?
    /// The message to the poster as edited by the moderator; nil for the rules' template.
    public var message: String?
    /// For `missed`: the guideline the post broke.
    public var guideline: String?
    public var reason: String

    public init(itemID: String, version: Int, moderator: String, verdict: Verdict, removal: String? = nil,
                message: String? = nil, guideline: String? = nil, reason: String) {
        self.itemID = itemID
        self.version = version
        self.moderator = moderator
        self.verdict = verdict
        self.removal = removal
        self.message = message
        self.guideline = guideline
        self.reason = reason
    }
}

public enum ReviewOutcome: Sendable, Equatable {
    case written(ReviewActionFile)
    /// Nothing was written; the sentence says why (who acted first, who holds the claim).
    case refused(String)
}

/// The review queue's rules: claims, versions, and what a verdict writes. One home for them,
/// used by the web pages, the bulk actions and the tests alike.
///
/// A submit runs in one write transaction: the item is read (and, on PostgreSQL, locked:
/// `SELECT … FOR UPDATE`), the version and claim are checked, the action file is written
/// (fsync + rename) and the item, the review and the audit row are recorded. SQLite
/// serialises writers; on PostgreSQL a second host's submit waits for the row and then reads
/// the first one's change. Either way, of two moderators racing for one item, on one host or
/// two, exactly one passes the version check; the other is told who acted and nothing is
/// written twice.
public struct ReviewDesk: Sendable {
    public let store: any ReviewStore
    public let outbox: OutboxWriter
    public let templates: ReviewTemplates
    /// Guideline titles, for messages (`{{guideline.title}}`).
    public var guidelineTitles: [String: String]
    /// How long opening an item keeps it for one moderator.
    public var claimDuration: TimeInterval = 300
    /// Takes back the strikes one post gave its author (the daemon's ledger): (post id, author).
    public var takeBack: @Sendable (String, String) throws -> Void

    public init(store: any ReviewStore, outbox: OutboxWriter, templates: ReviewTemplates, guidelineTitles: [String: String],
                takeBack: @escaping @Sendable (String, String) throws -> Void) {
        self.store = store
        self.outbox = outbox
        self.templates = templates
        self.guidelineTitles = guidelineTitles
        self.takeBack = takeBack
    }

    static let listedPriority = 9

    // MARK: Queue

    /// Pending items, appeals first, then oldest first.
    public func queue(_ filter: QueueFilter = QueueFilter(), limit: Int = 50, offset: Int = 0) throws -> [QueueItem] {
        try store.read { db in
            let (clause, arguments) = Self.whereClause(filter)
            return try db.rows("SELECT * FROM items WHERE \(clause) ORDER BY priority, queued_at, item_id LIMIT ? OFFSET ?",
                               arguments + [limit, offset]).map(QueueItem.init(row:))
        }
    }

    public func pendingCount(_ filter: QueueFilter = QueueFilter()) throws -> Int {
        try store.read { db in
            let (clause, arguments) = Self.whereClause(filter)
            return try db.value("SELECT COUNT(*) FROM items WHERE \(clause)", arguments) ?? 0
        }
    }

    private static func whereClause(_ filter: QueueFilter) -> (String, [any SQLBindable]) {
        var clause = "status = 'pending' AND priority < \(listedPriority)"
        var arguments: [any SQLBindable] = []
        if let guideline = filter.guideline {
            clause += " AND guidelines LIKE ? ESCAPE '\\'"
            arguments += [ListColumn.containsPattern(guideline)]
        }
        if let rule = filter.rule {
            clause += " AND rules LIKE ? ESCAPE '\\'"
            arguments += [ListColumn.containsPattern(rule)]
        }
        if let author = filter.author {
            clause += " AND author = ?"
            arguments += [author]
        }
        return (clause, arguments)
    }

    public func item(_ itemID: String) throws -> QueueItem? {
        try store.read { db in try db.row("SELECT * FROM items WHERE item_id = ?", [itemID]).map(QueueItem.init(row:)) }
    }

    /// The next pending item after `itemID` in queue order (for "submit and next").
    public func next(after itemID: String?, moderator: String, now: Date = Date()) throws -> QueueItem? {
        try store.read { db in
            // Skip items another moderator has claimed: they are being worked on.
            try db.row("""
                SELECT * FROM items WHERE status = 'pending' AND priority < \(Self.listedPriority) AND item_id <> ?
                    AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)
                ORDER BY priority, queued_at, item_id LIMIT 1
                """, [itemID ?? "", moderator, now.timeIntervalSince1970]).map(QueueItem.init(row:))
        }
    }

    public func decision(_ postID: String) throws -> LoggedDecision? {
        try store.read { db in
            try (db.value("SELECT line FROM decisions WHERE post_id = ?", [postID]) as String?).flatMap(LoggedDecision.parse)
        }
    }

    // MARK: Claims

    /// Opening an item claims it for `claimDuration` unless another moderator's claim runs.
    public func claim(_ itemID: String, moderator: String, now: Date = Date()) throws -> Claim {
        try store.write { db in
            guard let item = try db.row("SELECT * FROM items WHERE item_id = ?" + store.dialect.forUpdate, [itemID]).map(QueueItem.init(row:)) else {
                return .missing
            }
            if item.status != "pending" {
                return .resolved(by: item.resolvedBy ?? "someone", outcome: item.outcome ?? "resolved", at: item.resolvedAt ?? now)
            }
            if let holder = item.claimedBy, holder != moderator, let until = item.claimedUntil, until > now {
                return .held(by: holder, until: until, version: item.version)
            }
            let until = now.addingTimeInterval(claimDuration)
            try db.execute("UPDATE items SET claimed_by = ?, claimed_until = ? WHERE item_id = ?",
                           [moderator, until.timeIntervalSince1970, itemID])
            return .mine(version: item.version, until: until)
        }
    }

    /// A correction of a past decision is an item too (kind `past`), so that it has a
    /// version and two moderators cannot restore the same post twice.
    public func pastItem(for postID: String, now: Date = Date()) throws -> QueueItem? {
        try store.write { db in
            // ON CONFLICT DO NOTHING: two hosts opening the same past decision at once make one item.
            try db.execute("""
                INSERT INTO items(item_id, post_id, kind, status, priority, queued_at, author, guidelines, rules, instance, ruleset)
                SELECT ?, post_id, 'past', 'pending', \(Self.listedPriority), ?, author, guidelines, rules, instance, ruleset
                FROM decisions WHERE post_id = ?
                ON CONFLICT(item_id) DO NOTHING
                """, ["past:" + postID, now.timeIntervalSince1970, postID])
            return try db.row("SELECT * FROM items WHERE item_id = ?", ["past:" + postID]).map(QueueItem.init(row:))
        }
    }

    // MARK: Verdicts

    /// Verdicts that make sense for an item of this kind, given the decision it is about.
    public static func verdicts(kind: String, decision: LoggedDecision?) -> [Verdict] {
        switch kind {
        case "held": return [.released, .removed]
        case "appeal": return [.upheld, .overturned]
        default:
            guard let decision else { return [] }
            return decision.isSanction ? [.restored] : [.missed]
        }
    }

    /// The message the rules' review.yaml gives for `verdict` on `decision`.
    public func defaultMessage(_ verdict: Verdict, decision: LoggedDecision, guideline: String? = nil) -> String {
        let guidelineID = guideline ?? decision.guidelines.first ?? ""
        let context: [String: Any] = [
            "author": ["name": decision.authorName ?? decision.authorID, "id": decision.authorID],
            "guideline": ["id": guidelineID, "title": guidelineTitles[guidelineID] ?? guidelineID],
            "guidelines": decision.guidelines.map { ["id": $0, "title": guidelineTitles[$0] ?? $0] },
            "redacted_text": decision.redactedText ?? "",
            "post": ["id": decision.postID],
        ]
        return templates.render(verdict.templateOutcome, context: context).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Applies a moderator's verdict: see the type's comment for the guarantees.
    public func submit(_ submission: ReviewSubmission, now: Date = Date()) throws -> ReviewOutcome {
        let reason = submission.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { return .refused("A reason is required: pick one or write one. Nothing was written.") }
        guard reason.count <= 2_000 else { return .refused("The reason is longer than 2,000 characters. Nothing was written.") }
        return try store.write { db -> ReviewOutcome in
            guard let item = try db.row("SELECT * FROM items WHERE item_id = ?" + store.dialect.forUpdate, [submission.itemID]).map(QueueItem.init(row:)) else {
                return .refused("There is no review item \(submission.itemID).")
            }
            if item.status != "pending" {
                let who = item.resolvedBy ?? "someone"
                let what = item.outcome.flatMap(Verdict.init(rawValue:))?.pastTense ?? (item.outcome ?? "resolved")
                let when = item.resolvedAt.map(RFC3339.format) ?? "an earlier time"
                return .refused("\(who) already \(what) this at \(when). Nothing was written.")
            }
            if let holder = item.claimedBy, holder != submission.moderator, let until = item.claimedUntil, until > now {
                return .refused("\(holder) is reviewing this item (claimed until \(RFC3339.format(until))). Nothing was written.")
            }
            guard item.version == submission.version else {
                return .refused("This item changed since you opened it (the post was edited or re-judged). Reload it and decide again. Nothing was written.")
            }
            guard let decision = try (db.value("SELECT line FROM decisions WHERE post_id = ?", [item.postID]) as String?).flatMap(LoggedDecision.parse) else {
                return .refused("The decision on \(item.postID) is not in the log any more. Nothing was written.")
            }
            var appeal: LoggedDecision?
            if item.kind == "appeal" {
                appeal = try (db.value("SELECT line FROM decisions WHERE post_id = ?", [item.itemID]) as String?).flatMap(LoggedDecision.parse)
            }
            guard Self.verdicts(kind: item.kind, decision: decision).contains(submission.verdict) else {
                return .refused("\"\(submission.verdict.rawValue)\" does not apply to this item. Nothing was written.")
            }

            var action = "allow"
            var labels: [String] = []
            var guidelines = decision.guidelines
            switch submission.verdict {
            case .released, .overturned, .restored:
                action = "allow"
            case .removed, .missed:
                guard let removal = submission.removal, removal == "hide" || removal == "delete" else {
                    return .refused("Choose hide or delete. Nothing was written.")
                }
                action = removal
                if submission.verdict == .missed || guidelines.isEmpty {
                    guard let guideline = submission.guideline, !guideline.isEmpty else {
                        return .refused("Name the guideline the post broke. Nothing was written.")
                    }
                    guidelines = [guideline]
                }
                labels = guidelines
            case .upheld:
                action = ["hide", "delete"].contains(decision.action) ? decision.action : "hide"
                labels = guidelines
            }
            let message = submission.message.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
                ?? defaultMessage(submission.verdict, decision: decision, guideline: guidelines.first)
            let file = ReviewActionFile(
                postID: decision.postID, action: action, guidelines: guidelines, rules: decision.rules, message: message,
                authorID: decision.authorID, authorName: decision.authorName, moderator: submission.moderator, at: now,
                reason: reason, outcome: submission.verdict.rawValue, appealID: appeal?.postID)

            // The strike is taken back before the action file appears, so that a connector
            // that reacts at once never sees a restored post whose strike still counts.
            if submission.verdict.isReversal && decision.isSanction {
                try takeBack(decision.postID, decision.authorID)
            }
            try outbox.write(file)
            try db.execute("""
                UPDATE items SET status = 'resolved', version = version + 1, claimed_by = NULL, claimed_until = NULL,
                    resolved_by = ?, resolved_at = ?, outcome = ? WHERE item_id = ?
                """, [submission.moderator, now.timeIntervalSince1970, submission.verdict.rawValue, item.itemID])
            // An appeal or a correction settles the held item of the same post, if it still waits.
            if item.kind != "held" {
                try db.execute("""
                    UPDATE items SET status = 'resolved', version = version + 1, claimed_by = NULL, resolved_by = ?, resolved_at = ?, outcome = ?
                    WHERE item_id = ? AND status = 'pending'
                    """, [submission.moderator, now.timeIntervalSince1970, submission.verdict.rawValue, item.postID])
            }
            try db.execute("""
                INSERT INTO reviews(post_id, item_id, moderator, at, verdict, action, labels, rules, author, text, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [decision.postID, item.itemID, submission.moderator, now.timeIntervalSince1970, submission.verdict.rawValue,
                                 action, ListColumn.encode(labels), ListColumn.encode(decision.rules), decision.authorID, decision.text, reason])
            try AuditLog.append(db, at: now, moderator: submission.moderator, item: item.itemID, action: submission.verdict.rawValue,
                                reason: reason,
                                before: ["status": "pending", "version": item.version, "action": decision.action, "guidelines": decision.guidelines],
                                after: ["status": "resolved", "version": item.version + 1, "action": action, "guidelines": guidelines,
                                        "message": message])
            return .written(file)
        }
    }
}
