import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import WardenCore
import WardenDaemon

/// The other pages: past decisions, rules (production precision), audit, users, and
/// the console's /metrics.
extension ReviewConsole {
    // MARK: Search and past decisions

    func searchPage(_ request: Request, session: Session) throws -> Response {
        let query = FormData(request.uri.query ?? "")
        let q = query["q"] ?? ""
        let field = query["in"].flatMap(ReviewDesk.SearchField.init(rawValue:)) ?? .post
        let results = try desk.search(q, in: field, limit: 100).map { decision -> [String: Any] in
            ["post_id": decision.postID, "action": decision.isAppeal ? "appeal" : decision.action, "guidelines": decision.guidelines.joined(separator: ", "),
             "author": decision.authorID, "at": PageParts.time(decision.decidedAt), "preview": PageParts.preview(decision.text)]
        }
        let labels: [ReviewDesk.SearchField: String] = [.post: "post id", .author: "author id", .text: "text"]
        return try page("search", title: "Past decisions", session: session, extra: [
            "q": q, "searched": !q.isEmpty, "results": results,
            "fields": ReviewDesk.SearchField.allCases.map { ["value": $0.rawValue, "label": labels[$0] ?? $0.rawValue, "selected": $0 == field] },
        ])
    }

    func decisionPage(_ postID: String, session: Session) throws -> Response {
        if postID.hasSuffix(".json") {
            let id = String(postID.dropLast(5))
            guard let decision = try desk.decision(id) else { return plain(.notFound, "no decision on \(id)\n") }
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: decision.line + "\n")))
        }
        guard let item = try desk.pastItem(for: postID) else {
            return try page("message", title: "Not found", session: session, status: .notFound, extra: ["text": "No decision on this post id is in the log.", "back": "/search"])
        }
        return try itemPage(item.itemID, session: session)
    }

    // MARK: Rules

    func rulesPage(session: Session) throws -> Response {
        if let reloaded = try? RuleLoader.load(directory: configuration.rulesDirectory, runExamples: false) {
            ruleSet.withLock { $0 = reloaded }
        }
        let rules = ruleSet.withLock { $0 }
        let stats = try desk.ruleStats()
        let demoted = try ledger.demotedRules()
        let overThreshold = noteReversalRates(stats)
        let rows: [[String: Any]] = rules.rules.map { rule in
            let stat = stats[rule.id] ?? ReviewDesk.RuleStats()
            let confirmed = stat.reviews - stat.reversals
            let interval = WilsonInterval(successes: confirmed, trials: stat.reviews)
            let flagged = overThreshold.contains(rule.id)
            let path = configuration.rulesDirectory + "/" + rule.location.file
            let changed = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            return [
                "id": rule.id, "guideline": rules.guideline(of: rule).id, "action": rule.action.rawValue,
                "mode": demoted.contains(rule.id) ? "shadow" : rule.mode.rawValue, "demoted": demoted.contains(rule.id),
                "can_confirm": session.user.role == .admin, "csrf": session.csrf,
                "hits": stat.hits, "reviews": stat.reviews, "reversals": stat.reversals,
                "precision": interval.map { String(format: "%.2f", $0.estimate) } ?? "–",
                "interval": interval.map { String(format: "%.2f–%.2f", $0.lower, $0.upper) } ?? "–",
                "changed": changed.map(PageParts.time) ?? "–", "flagged": flagged,
            ]
        }
        let instances = try Instances.list(store)
        let prevailing = Instances.prevailingRuleset(instances)
        let instanceRows: [[String: Any]] = instances.map { instance in
            [
                "name": instance.name, "this_host": instance.name == configuration.instance, "ruleset": instance.ruleset ?? "–",
                "differs": instance.ruleset != nil && prevailing != nil && instance.ruleset != prevailing
                    && !Instances.current([instance]).isEmpty,
                "stale": Instances.current([instance]).isEmpty,
                "last_decided_at": instance.lastDecidedAt.map(PageParts.time) ?? "–", "last_seen": PageParts.time(instance.lastSeen),
            ]
        }
        return try page("rules", title: "Rules", session: session, extra: [
            "instances": instanceRows, "disagree": Instances.disagree(instances),
            "rules": rows, "threshold": String(format: "%.0f %%", configuration.reversalThreshold * 100), "min_reviews": configuration.minimumReviewsToFlag,
        ])
    }

    /// Rules whose reversal rate is above the threshold (with enough reviews to say so);
    /// each is logged once per console run, when it first crosses.
    func noteReversalRates(_ stats: [String: ReviewDesk.RuleStats]) -> Set<String> {
        var flagged = Set<String>()
        for (rule, stat) in stats where stat.reviews >= configuration.minimumReviewsToFlag
            && Double(stat.reversals) / Double(stat.reviews) > configuration.reversalThreshold {
            flagged.insert(rule)
            if self.flaggedRules.withLock({ $0.insert(rule).inserted }) {
                logger.warning("rule reversed by moderators above the threshold", metadata: [
                    "rule": "\(rule)", "reversals": "\(stat.reversals)", "reviews": "\(stat.reviews)", "threshold": "\(configuration.reversalThreshold)"])
            }
        }
        return flagged
    }

    func confirmRule(form: FormData, session: Session) throws -> Response {
        let rule = form["rule"] ?? ""
        guard try ledger.demotedRules().contains(rule) else {
            return try page("message", title: "Confirm", session: session, status: .conflict, extra: ["text": "That rule is not demoted (someone may have confirmed it already).", "back": "/rules"])
        }
        try ledger.confirmRule(rule, at: Date())
        try AuditLog.append(store, moderator: session.user.name, item: "rule:" + rule, action: "confirm_rule", reason: "admin confirmed a demoted rule",
                            before: ["mode": "shadow (demoted)"], after: ["mode": "enforce"])
        return redirect("/rules")
    }

    // MARK: Audit and users

    func auditPage(_ request: Request, session: Session) throws -> Response {
        let query = FormData(request.uri.query ?? "")
        let entries = try AuditLog.entries(store, moderator: query["moderator"], item: query["item"]).map { entry -> [String: Any] in
            ["id": entry.id, "at": PageParts.time(entry.at), "moderator": entry.moderator, "item": entry.item, "action": entry.action,
             "reason": entry.reason, "before": entry.before, "after": entry.after]
        }
        return try page("audit", title: "Audit log", session: session, extra: ["entries": entries, "moderator": query["moderator"] ?? "", "item": query["item"] ?? ""])
    }

    func usersPage(session: Session, flash: String?) throws -> Response {
        let users = try accounts.users().map { ["name": $0.name, "role": $0.role.rawValue] }
        return try page("users", title: "Users", session: session, flash: flash, extra: ["users": users])
    }

    func changeUsers(form: FormData, session: Session) throws -> Response {
        let name = form["name"] ?? ""
        do {
            switch form["op"] {
            case "add":
                let role = form["role"].flatMap(Role.init(rawValue:)) ?? .moderator
                let password = Accounts.generatePassword()
                try accounts.add(name: name, role: role, password: password)
                try AuditLog.append(store, moderator: session.user.name, item: "user:" + name, action: "add_user", reason: "admin", after: ["role": role.rawValue])
                return try usersPage(session: session, flash: "Added \(name) (\(role.rawValue)). Password, shown once: \(password)")
            case "reset":
                let password = Accounts.generatePassword()
                try accounts.reset(name: name, password: password)
                try AuditLog.append(store, moderator: session.user.name, item: "user:" + name, action: "reset_password", reason: "admin")
                return try usersPage(session: session, flash: "New password for \(name), shown once: \(password)")
            case "remove":
                guard name != session.user.name else { return try usersPage(session: session, flash: "You cannot remove yourself.") }
                try accounts.remove(name: name)
                try AuditLog.append(store, moderator: session.user.name, item: "user:" + name, action: "remove_user", reason: "admin")
                return try usersPage(session: session, flash: "Removed \(name); their sessions ended.")
            default:
                return try usersPage(session: session, flash: "Unknown operation.")
            }
        } catch let error as ConsoleError {
            return try usersPage(session: session, flash: error.description)
        }
    }

    // MARK: Metrics

    func metrics() async throws -> Response {
        let pending = try desk.pendingCount()
        let byRule = try await store.readAsync { db in
            try db.rows("SELECT rules, verdict, COUNT(*) AS n FROM reviews GROUP BY rules, verdict").map { row -> (rules: String, verdict: String, n: Int) in
                (try row["rules"], try row["verdict"], try row["n"])
            }
        }
        var counts: [String: Int] = [:]
        for (rulesText, verdict, n) in byRule {
            let rules = ListColumn.decode(rulesText)
            for rule in rules.isEmpty ? ["none"] : rules { counts["rule=\"\(Self.label(rule))\",verdict=\"\(Self.label(verdict))\"", default: 0] += n }
        }
        var text = "# HELP warden_review_pending Held posts and appeals waiting for a moderator.\n# TYPE warden_review_pending gauge\n"
        text += "warden_review_pending \(pending)\n"
        text += "# HELP warden_reviews_total Moderator reviews by rule that acted and verdict.\n# TYPE warden_reviews_total counter\n"
        for (labels, n) in counts.sorted(by: { $0.key < $1.key }) { text += "warden_reviews_total{\(labels)} \(n)\n" }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func label(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
