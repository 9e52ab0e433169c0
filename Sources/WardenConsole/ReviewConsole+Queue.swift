import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import WardenCore
import WardenDaemon

/// The queue page: pending items, filters, and the rows it keeps rendered.
extension ReviewConsole {
    // MARK: Queue

    static let releaseReasons = ["Not a violation", "A complaint, not abuse", "Quoting or reporting abuse", "Context makes it acceptable", "Other (see note)"]
    static let removeReasons = ["Breaks the guideline", "Abuse of a person", "Spam or scam", "Personal data posted in public", "Other (see note)"]

    func queuePage(_ request: Request, session: Session) throws -> Response {
        let query = FormData(request.uri.query ?? "")
        let filter = QueueFilter(guideline: query["guideline"], rule: query["rule"], author: query["author"])
        let items = try desk.queue(filter, limit: 50)
        let count = try desk.pendingCount(filter)
        let rows = try queueRows(items, now: Date(), prevailing: Instances.prevailingRuleset(try Instances.list(store)))
        let rules = ruleSet.withLock { $0 }
        return try page("queue", title: "Review queue", session: session, pending: filter == QueueFilter() ? count : nil, extra: [
            "items": rows, "has_items": !rows.isEmpty, "more": count > rows.count, "shown": rows.count,
            "guideline_options": rules.guidelines.map { ["id": $0.id, "title": $0.title, "selected": $0.id == filter.guideline] },
            "rule_options": try ruleOptions(rules), "filter_rule": filter.rule ?? "", "filter_author": filter.author ?? "",
            "filtered": filter != QueueFilter(), "bulk_reasons": Self.releaseReasons + Self.removeReasons.filter { !Self.releaseReasons.contains($0) },
        ])
    }

    /// The queue's rows as HTML, each rendered once for what it shows (item, version, live
    /// claim, time waited, whether its ruleset is the instances' prevailing one) and kept: moderators of one page load the same first fifty rows,
    /// and rendering them was about 90 % of the queue page (release build, `perf record` of
    /// scripts/bench-console.py: 4.5 of 4.9 ms a page, Mustache resolving each row's 14 tags
    /// through dynamic casts). At most `rowCacheLimit` rows are kept; the cache is emptied
    /// when full. Rows are Mustache-rendered, so everything in them is escaped.
    func queueRows(_ items: [QueueItem], now: Date, prevailing: String?) throws -> [[String: Any]] {
        let keyed = items.map { item -> (item: QueueItem, key: String, claimedBy: String?, waited: String, differs: Bool) in
            let claimedBy = item.claimedUntil.map { $0 > now } == true ? item.claimedBy : nil
            let waited = PageParts.waited(since: item.queuedAt, now: now)
            let differs = item.ruleset != nil && prevailing != nil && item.ruleset != prevailing
            return (item, [item.itemID, String(item.version), claimedBy ?? "", waited, differs ? "1" : "0"].joined(separator: "\u{1F}"), claimedBy, waited, differs)
        }
        var html = rowCache.withLock { cache in keyed.map { cache[$0.key] } }
        let missing = keyed.indices.filter { html[$0] == nil }
        guard !missing.isEmpty else { return html.map { ["html": $0!] } }
        let textIDs = missing.map { keyed[$0].item.kind == "appeal" ? keyed[$0].item.itemID : keyed[$0].item.postID }
        let texts = try store.read { db -> [String: String] in
            var texts: [String: String] = [:]
            for id in textIDs { texts[id] = try db.value("SELECT text FROM decisions WHERE post_id = ?", [id]) }
            return texts
        }
        var rendered: [(String, String)] = []
        for (index, textID) in zip(missing, textIDs) {
            let (item, key, claimedBy, waited, differs) = keyed[index]
            var row: [String: Any] = [
                "item_id": item.itemID, "post_id": item.postID, "version": item.version, "kind": item.kind,
                "kind_label": item.kind == "appeal" ? "appeal" : "held", "author": item.author,
                "guidelines": item.guidelines.joined(separator: ", "), "rules": item.rules.joined(separator: ", "),
                "waited": waited, "preview": PageParts.preview(texts[textID] ?? ""),
                "instance": item.instance ?? "–", "ruleset": item.ruleset ?? "–",
                "ruleset_differs": differs,
            ]
            if let claimedBy { row["claimed_by"] = claimedBy }
            let rowHTML = library.render(row, withTemplate: "queueRow") ?? ""
            html[index] = rowHTML
            rendered.append((key, rowHTML))
        }
        rowCache.withLock { cache in
            if cache.count + rendered.count > Self.rowCacheLimit { cache.removeAll(keepingCapacity: true) }
            for (key, row) in rendered { cache[key] = row }
        }
        return html.map { ["html": $0 ?? ""] }
    }

    static let rowCacheLimit = 5_000

    /// The rule filter's options, rendered once per rule set (the console reloads rules).
    func ruleOptions(_ rules: RuleSet) throws -> String {
        if let cached = ruleOptionsCache.withLock({ $0 }), cached.digest == rules.digest { return cached.html }
        let html = library.render(["rule_ids": rules.ruleIDs], withTemplate: "ruleOptions") ?? ""
        ruleOptionsCache.withLock { $0 = (rules.digest, html) }
        return html
    }
}
