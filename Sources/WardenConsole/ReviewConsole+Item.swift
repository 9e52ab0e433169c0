import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import WardenCore
import WardenDaemon

/// One item: its page (the post, the decision, the author card) and the actions on it
/// (release, remove, bulk, pardon, escalate).
extension ReviewConsole {
    // MARK: Item

    func itemPage(_ itemID: String, session: Session, flash: String? = nil, refusal: String? = nil,
                          status: HTTPResponse.Status = .ok) throws -> Response {
        let claim = try desk.claim(itemID, moderator: session.user.name)
        guard claim != .missing, let item = try desk.item(itemID) else {
            return try page("message", title: "Not found", session: session, status: .notFound,
                            extra: ["text": "There is no review item with this id.", "back": "/"])
        }
        guard let decision = try desk.decision(item.postID) else {
            return try page("message", title: "Not found", session: session, status: .notFound,
                            extra: ["text": "The decision on this post is not in the log.", "back": "/"])
        }
        var extra = try decisionContext(decision, session: session)
        extra["item_id"] = item.itemID
        extra["version"] = item.version
        extra["waited"] = PageParts.waited(since: item.queuedAt)
        let prevailing = Instances.prevailingRuleset(try Instances.list(store))
        extra["instance"] = item.instance ?? "unknown (indexed before instances were named)"
        extra["ruleset"] = item.ruleset ?? decision.ruleset ?? "unknown"
        extra["prevailing_ruleset"] = prevailing ?? ""
        extra["ruleset_differs"] = prevailing != nil && (item.ruleset ?? decision.ruleset).map { $0 != prevailing } == true
        extra["kind_label"] = item.kind == "appeal" ? "Appeal on" : item.kind == "past" ? "Past decision on" : "Held post"
        var notice: String?
        var canAct = true
        switch claim {
        case .held(let holder, let until, _):
            notice = "\(holder) is reviewing this item until \(PageParts.time(until)). You can read it; a decision is refused until the claim runs out."
        case .resolved(let by, let outcome, let at):
            let what = Verdict(rawValue: outcome)?.pastTense ?? outcome
            notice = "\(by) already \(what) this at \(PageParts.time(at))."
            canAct = false
        case .mine, .missing:
            break
        }
        if let refusal { notice = refusal }
        extra["claim_notice"] = notice
        if item.kind == "appeal", let appeal = try desk.decision(item.itemID) {
            extra["appeal"] = true
            extra["appeal_text"] = ["segments": PageParts.segments(appeal.text, spans: [])]
        }
        let verdicts = ReviewDesk.verdicts(kind: item.kind, decision: decision)
        extra["can_act"] = canAct && !verdicts.isEmpty
        for verdict in verdicts {
            switch verdict {
            case .released, .overturned, .restored:
                extra["verdict_release"] = verdict.rawValue
                extra["release_label"] = verdict == .released ? "Release" : verdict == .overturned ? "Overturn: restore the post" : "Should not have been removed: restore"
                extra["release_message"] = desk.defaultMessage(verdict, decision: decision)
            case .removed, .upheld, .missed:
                extra["verdict_remove"] = verdict.rawValue
                extra["remove_label"] = verdict == .removed ? "Remove" : verdict == .upheld ? "Uphold the decision" : "Should have been removed: remove"
                extra["remove_message"] = desk.defaultMessage(verdict, decision: decision)
                extra["ask_removal"] = verdict != .upheld
                extra["delete_default"] = decision.rules.contains { rule in ruleSet.withLock { $0.rule(id: rule)?.action == .delete } }
                extra["ask_guideline"] = verdict == .missed || decision.guidelines.isEmpty
            }
        }
        extra["release_reasons"] = Self.releaseReasons
        extra["remove_reasons"] = Self.removeReasons
        extra["guideline_options"] = ruleSet.withLock { $0.guidelines.map { ["id": $0.id, "title": $0.title] } }
        if let next = try desk.next(after: item.itemID, moderator: session.user.name) { extra["next_item"] = next.itemID }
        return try page("item", title: "Review \(item.postID)", session: session, status: status, flash: flash,
                        extra: extra)
    }

    /// The sentence after a redirect: built here from a code and a post id (never taken from
    /// the query string as text, so a link cannot put words in the console's mouth).
    func flashText(_ request: Request) -> String? {
        let query = FormData(request.uri.query ?? "")
        guard let done = query["done"].flatMap(Verdict.init(rawValue:)), let post = query["post"], Post.isValidID(post) else { return nil }
        return "Done: \(done.pastTense) \(post); the action file is in the outbox."
    }

    /// What every page about one decision shows: text with highlights, rules, messages, author card.
    func decisionContext(_ decision: LoggedDecision, session: Session) throws -> [String: Any] {
        var context: [String: Any] = [
            "post_id": decision.postID, "action": decision.action, "guidelines": decision.guidelines.joined(separator: ", "),
            "rules": decision.rules.joined(separator: ", "), "decided_at": PageParts.time(decision.decidedAt),
            "post_text": ["segments": PageParts.segments(decision.text, spans: decision.matches)],
            "author": try authorCard(decision.authorID, name: decision.authorName),
        ]
        if let escalation = decision.escalation { context["escalation"] = escalation }
        if !decision.heldBecause.isEmpty { context["held_because"] = decision.heldBecause.joined(separator: "; ") }
        if let message = decision.message { context["message"] = message }
        if let note = decision.publicNote { context["public_note"] = note }
        let reviews = try desk.reviews(of: decision.postID).map { row -> [String: Any] in
            ["moderator": try row["moderator"] as String, "verdict": try row["verdict"] as String, "reason": try row["reason"] as String,
             "at": PageParts.time(Date(timeIntervalSince1970: try row["at"]))]
        }
        if !reviews.isEmpty { context["reviews"] = reviews; context["has_reviews"] = true }
        return context
    }

    func authorCard(_ authorID: String, name: String? = nil) throws -> [String: Any] {
        let standing = try ledger.standing(of: authorID)
        let policy = ruleSet.withLock { $0.escalation }
        let since = Date().addingTimeInterval(-policy.window)
        var perGuideline: [String: Int] = [:]
        for strike in standing.strikes where strike.at > since { perGuideline[strike.guideline, default: 0] += 1 }
        let decisions = try desk.decisions(byAuthor: authorID, limit: 10)
        let name = name ?? decisions.first(where: { $0.authorName != nil })?.authorName
        let history = decisions.map { decision -> [String: Any] in
            ["post_id": decision.postID, "action": decision.isAppeal ? "appeal" : decision.action,
             "guidelines": decision.guidelines.joined(separator: ", "), "at": PageParts.time(decision.decidedAt)]
        }
        let days = Int(policy.window / 86_400)
        var card: [String: Any] = [
            "id": authorID, "name": name ?? authorID,
            "url_id": PageParts.queryEncoded(authorID), "window": days > 0 ? "\(days) days" : "\(Int(policy.window)) s",
            "strikes": perGuideline.sorted { $0.key < $1.key }.map { ["guideline": $0.key, "count": $0.value] },
            "strike_guidelines": perGuideline.keys.sorted(), "history": history,
            "pardons": standing.pardons.suffix(10).map { pardon -> [String: Any] in
                ["what": pardon.escalation.map { "escalated by hand to \($0.rawValue)" } ?? pardon.postID.map { "strike of \($0) taken back" }
                    ?? "pardoned \(pardon.guideline ?? "all guidelines")",
                 "at": PageParts.time(pardon.at)]
            },
        ]
        if let escalation = standing.escalations.map(\.action).max() { card["escalation"] = escalation.rawValue }
        return card
    }

    // MARK: Acting

    func reason(_ form: FormData) -> String {
        let pick = (form["reason_pick"] ?? "").trimmingCharacters(in: .whitespaces)
        let text = (form["reason_text"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if pick.isEmpty { return text }
        if text.isEmpty { return pick }
        return pick + ": " + text
    }

    func act(on itemID: String, form: FormData, session: Session) throws -> Response {
        guard let verdict = form["verdict"].flatMap(Verdict.init(rawValue:)), let version = form["version"].flatMap(Int.init) else {
            return try itemPage(itemID, session: session, refusal: "The form was incomplete. Nothing was written.", status: .badRequest)
        }
        let submission = ReviewSubmission(itemID: itemID, version: version, moderator: session.user.name, verdict: verdict,
                                          removal: form["removal"], message: form["message"], guideline: form["guideline"], reason: reason(form))
        switch try desk.submit(submission) {
        case .refused(let sentence):
            logger.info("review refused", metadata: ["item": "\(itemID)", "moderator": "\(session.user.name)", "why": "\(sentence)"])
            return try itemPage(itemID, session: session, refusal: sentence, status: .conflict)
        case .written(let file):
            if verdict.isReversal { _ = noteReversalRates(try desk.ruleStats()) }
            logger.info("review written", metadata: ["post": "\(file.postID)", "action": "\(file.action)", "moderator": "\(session.user.name)", "verdict": "\(verdict.rawValue)"])
            let done = "done=\(verdict.rawValue)&post=\(PageParts.queryEncoded(file.postID))"
            if form["next"] == "1", let next = try desk.next(after: itemID, moderator: session.user.name) {
                return redirect("/item/\(PageParts.queryEncoded(next.itemID))?\(done)")
            }
            return redirect("/item/\(PageParts.queryEncoded(itemID))?\(done)")
        }
    }

    func bulk(form: FormData, session: Session) throws -> Response {
        guard let verdict = form["verdict"].flatMap(Verdict.init(rawValue:)), verdict == .released || verdict == .removed else {
            return try page("message", title: "Bulk action", session: session, status: .badRequest, extra: ["text": "Choose release or remove.", "back": "/"])
        }
        let selected = form.all("item")
        guard !selected.isEmpty else {
            return try page("message", title: "Bulk action", session: session, status: .badRequest, extra: ["text": "Select at least one item.", "back": "/"])
        }
        var written = 0
        var refusals: [String] = []
        for value in selected {
            guard let colon = value.lastIndex(of: ":"), let version = Int(value[value.index(after: colon)...]) else { continue }
            let itemID = String(value[..<colon])
            let submission = ReviewSubmission(itemID: itemID, version: version, moderator: session.user.name, verdict: verdict,
                                              removal: form["removal"], reason: reason(form))
            switch try desk.submit(submission) {
            case .written: written += 1
            case .refused(let sentence): refusals.append("\(itemID): \(sentence)")
            }
        }
        let text = "\(verdict == .released ? "Released" : "Removed") \(written) of \(selected.count) items."
            + (refusals.isEmpty ? "" : " Not done: " + refusals.joined(separator: " "))
        return try page("message", title: "Bulk action", session: session, status: refusals.isEmpty ? .ok : .conflict,
                        flash: text, flashKind: refusals.isEmpty ? "ok" : "error", extra: ["text": text, "back": "/"])
    }

    func pardon(form: FormData, session: Session) throws -> Response {
        let author = form["author"] ?? ""
        let reason = reason(form)
        guard !author.isEmpty, !reason.isEmpty else {
            return try page("message", title: "Pardon", session: session, status: .badRequest, extra: ["text": "A pardon needs an author and a reason. Nothing was changed.", "back": "/"])
        }
        let guideline = (form["guideline"] ?? "").isEmpty ? nil : form["guideline"]
        let before = try ledger.standing(of: author)
        let removed = try ledger.pardon(author: author, guideline: guideline, at: Date(), moderator: session.user.name, reason: reason)
        try AuditLog.append(store, moderator: session.user.name, item: "author:" + author, action: "pardon", reason: reason,
                            before: ["strikes": before.strikes.count, "escalation": before.escalations.map(\.action.rawValue).max() ?? "none"],
                            after: ["strikes_removed": removed, "guideline": guideline ?? "all", "escalation": "none"])
        let text = "Pardoned \(author): \(removed) strike\(removed == 1 ? "" : "s") removed and any escalation lifted. The daemon applies it within a second."
        return try page("author", title: "Author", session: session, flash: text, extra: ["author": try authorCard(author)])
    }

    func escalate(form: FormData, session: Session) throws -> Response {
        let author = form["author"] ?? ""
        let reason = reason(form)
        guard !author.isEmpty, !reason.isEmpty, let action = form["escalation"].flatMap(Action.init(rawValue:)),
              action == .holdAuthor || action == .blockAuthor else {
            return try page("message", title: "Escalate", session: session, status: .badRequest,
                            extra: ["text": "An escalation needs an author, hold_author or block_author, and a reason. Nothing was changed.", "back": "/"])
        }
        let before = try ledger.standing(of: author)
        try ledger.escalate(author: author, to: action, at: Date())
        try AuditLog.append(store, moderator: session.user.name, item: "author:" + author, action: "escalate", reason: reason,
                            before: ["escalation": before.escalations.map(\.action.rawValue).max() ?? "none"], after: ["escalation": action.rawValue])
        let text = "Escalated \(author) to \(action.rawValue) by hand. The daemon applies it within a second; a pardon lifts it."
        return try page("author", title: "Author", session: session, flash: text, extra: ["author": try authorCard(author)])
    }
}
