import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import Synchronization
import WardenCore
import WardenDaemon

/// How `warden console` is set up.
public struct ConsoleConfiguration: Sendable {
    /// The daemon's state root (inbox/, outbox/, decisions.jsonl, state/).
    public var stateRoot: String
    public var rulesDirectory: String
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// How often decisions.jsonl is checked for new lines.
    public var pollInterval: TimeInterval = 0.25
    /// Reversal rate above which a rule is marked on the Rules page (and logged).
    public var reversalThreshold: Double = 0.3
    public var minimumReviewsToFlag = 5
    /// The daemon's ledger (`ledger:` in warden.yaml): author cards, pardons, escalations,
    /// take-backs and rule confirmations read and write where every daemon instance reads.
    public var ledger = LedgerLocation.sqlite
    /// This host's name among the instances (`instance:` in warden.yaml, else the host
    /// name): the decisions its indexer reads are tagged with it.
    public var instance = ProcessInfo.processInfo.hostName

    public init(stateRoot: String, rulesDirectory: String) {
        self.stateRoot = stateRoot
        self.rulesDirectory = rulesDirectory
    }
}

/// The request context: Hummingbird's, plus the client address for login throttling.
public struct ConsoleRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// The review console: pages, forms and /metrics over the review store.
public final class ReviewConsole: Sendable {
    public let configuration: ConsoleConfiguration
    public let store: any ReviewStore
    public let desk: ReviewDesk
    public let accounts: Accounts
    let ledger: any ModeratorLedger
    let library: MustacheLibrary
    let logger: Logger
    private let ruleSet: Mutex<RuleSet>
    private let flaggedRules = Mutex<Set<String>>([])
    private let indexerStop = Mutex(false)
    private let rowCache = Mutex<[String: String]>([:])
    private let ruleOptionsCache = Mutex<(digest: String, html: String)?>(nil)

    public init(configuration: ConsoleConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let layout = SpoolLayout(root: configuration.stateRoot)
        guard FileManager.default.fileExists(atPath: layout.outbox) else {
            throw ConsoleError("no spool at \(configuration.stateRoot) (outbox/ is missing); pass --state with the daemon's state root, e.g. /var/lib/warden")
        }
        let rules: RuleSet
        let templates: ReviewTemplates
        do {
            rules = try RuleLoader.load(directory: configuration.rulesDirectory, runExamples: false)
            templates = try ReviewTemplates.load(rulesDirectory: configuration.rulesDirectory)
        } catch {
            throw ConsoleError(error.description)
        }
        ruleSet = Mutex(rules)
        let store = try ReviewStores.open(configuration.ledger, stateRoot: configuration.stateRoot, logger: logger)
        self.store = store
        let ledger: any ModeratorLedger
        do {
            ledger = try ModeratorLedgers.open(configuration.ledger, stateRoot: configuration.stateRoot, readOnly: false, logger: logger)
        } catch {
            throw ConsoleError(error.description)
        }
        self.ledger = ledger
        accounts = Accounts(store: store)
        desk = ReviewDesk(
            store: store, outbox: OutboxWriter(outbox: layout.outbox), templates: templates,
            guidelineTitles: Dictionary(rules.guidelines.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a }),
            takeBack: { postID, author in try ledger.takeBack(postID: postID, author: author, at: Date()) })
        library = try Templates.library()
    }

    // MARK: Running

    /// Indexes the log once (catching up), then serves until SIGTERM or SIGINT.
    public func run() async throws {
        let indexer = LogIndexer(logPath: SpoolLayout(root: configuration.stateRoot).decisionsLog, instance: configuration.instance, store: store)
        let started = Date()
        let lines = try indexer.catchUp()
        logger.notice("indexed decisions.jsonl", metadata: ["lines": "\(lines)", "seconds": "\(String(format: "%.1f", Date().timeIntervalSince(started)))"])
        startIndexer(indexer)
        let router = Router(context: ConsoleRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        addRoutes(router)
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .notice)
        let host = configuration.host, port = configuration.port
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { [logger] _ in logger.notice("review console listening", metadata: ["address": "http://\(host):\(port)/"]) },
            logger: serverLogger)
        try await app.runService()
        indexerStop.withLock { $0 = true }
    }

    /// A thread of its own polls the log: indexing is blocking I/O and SQLite writes, kept
    /// off the threads that answer requests.
    private func startIndexer(_ indexer: LogIndexer) {
        let interval = configuration.pollInterval
        let thread = Thread { [self] in
            var failures = 0
            while !indexerStop.withLock({ $0 }) {
                do {
                    try indexer.catchUp()
                    failures = 0
                } catch {
                    failures += 1
                    if failures == 1 || failures % 100 == 0 {
                        logger.error("cannot index decisions.jsonl", metadata: ["error": "\(error)", "log": "\(indexer.logPath)"])
                    }
                }
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "warden-console-indexer"
        thread.start()
    }

    // MARK: Routes

    private func addRoutes(_ router: Router<ConsoleRequestContext>) {
        router.get("/static/console.js") { _, _ in Self.asset(StaticAssets.javascript, type: "text/javascript; charset=utf-8") }
        router.get("/static/console.css") { _, _ in Self.asset(StaticAssets.css, type: "text/css; charset=utf-8") }
        router.get("/healthz") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/metrics") { [self] _, _ in try await metrics() }
        router.get("/login") { [self] request, _ in loginPage(request, flash: nil) }
        router.post("/login") { [self] request, context in try await login(request, context: context) }
        router.post("/logout") { [self] request, _ in try await withSession(request, post: true) { [self] session, _ in try logout(session) } }
        router.get("/") { [self] request, _ in try await withSession(request) { [self] session, _ in try queuePage(request, session: session) } }
        router.get("/item/:id") { [self] request, context in
            let id = context.parameters.get("id") ?? ""
            return try await withSession(request) { [self] session, _ in try itemPage(id, session: session, flash: flashText(request)) }
        }
        router.post("/item/:id") { [self] request, context in
            let id = context.parameters.get("id") ?? ""
            return try await withSession(request, post: true) { [self] session, form in try act(on: id, form: form, session: session) }
        }
        router.post("/bulk") { [self] request, _ in try await withSession(request, post: true) { [self] session, form in try bulk(form: form, session: session) } }
        router.get("/search") { [self] request, _ in try await withSession(request) { [self] session, _ in try searchPage(request, session: session) } }
        router.get("/decision/:id") { [self] request, context in
            let id = context.parameters.get("id") ?? ""
            return try await withSession(request) { [self] session, _ in try decisionPage(id, session: session) }
        }
        router.get("/author") { [self] request, _ in
            try await withSession(request) { [self] session, _ in
                let id = FormData(request.uri.query ?? "")["id"] ?? ""
                return try page("author", title: "Author", session: session, extra: ["author": try authorCard(id)])
            }
        }
        router.post("/author/pardon") { [self] request, _ in try await withSession(request, post: true) { [self] session, form in try pardon(form: form, session: session) } }
        router.post("/author/escalate") { [self] request, _ in try await withSession(request, post: true) { [self] session, form in try escalate(form: form, session: session) } }
        router.get("/rules") { [self] request, _ in try await withSession(request) { [self] session, _ in try rulesPage(session: session) } }
        router.post("/rules/confirm") { [self] request, _ in
            try await withSession(request, post: true, admin: true) { [self] session, form in try confirmRule(form: form, session: session) }
        }
        router.get("/audit") { [self] request, _ in try await withSession(request) { [self] session, _ in try auditPage(request, session: session) } }
        router.get("/users") { [self] request, _ in try await withSession(request, admin: true) { [self] session, _ in try usersPage(session: session, flash: nil) } }
        router.post("/users") { [self] request, _ in
            try await withSession(request, post: true, admin: true) { [self] session, form in try changeUsers(form: form, session: session) }
        }
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Sessions and CSRF

    static let sessionCookie = "warden_session"
    static let loginCookie = "warden_login"

    /// Runs `body` for a logged-in user; for POSTs also checks the CSRF token of the form.
    /// Logged out: a page redirects to the login page, anything else is refused (401).
    ///
    /// `body` runs on a Dispatch thread: it makes synchronous SQLite calls, which must not
    /// block Swift concurrency's few threads (with all of them waiting for a reader, the
    /// async calls that would free one could never run: seen as a hang under 20 sessions).
    private func withSession(_ request: Request, post: Bool = false, admin: Bool = false,
                             _ body: @escaping @Sendable (Session, FormData) throws -> Response) async throws -> Response {
        var session: Session?
        if let token = request.cookies[Self.sessionCookie]?.value { session = try await accounts.session(token: token) }
        guard let session else {
            if post { return plain(.unauthorized, "Log in first: this request was refused and nothing was changed.\n") }
            return redirect("/login")
        }
        if admin && session.user.role != .admin {
            return try page("message", title: "Not allowed", session: session, status: .forbidden,
                            extra: ["text": "This page is for admins only.", "back": "/"])
        }
        var form = FormData("")
        if post {
            form = try await Self.formBody(request)
            guard let token = form["csrf"], Accounts.constantTimeEqual(token, session.csrf) else {
                return try page("message", title: "Form expired", session: session, status: .forbidden,
                                extra: ["text": "The form's security token did not match your session (an old tab, or a request from another site). Nothing was changed.", "back": "/"])
            }
        }
        let checkedForm = form
        return try await Self.offload { try body(session, checkedForm) }
    }

    private static func offload(_ work: @escaping @Sendable () throws -> Response) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func formBody(_ request: Request) async throws -> FormData {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return FormData(String(buffer: buffer))
    }

    private static func isSecure(_ request: Request) -> Bool {
        guard let name = HTTPField.Name("X-Forwarded-Proto") else { return false }
        return request.headers[name]?.lowercased() == "https"
    }

    private static func cookie(_ name: String, _ value: String, path: String = "/", maxAge: Int?, request: Request) -> String {
        var cookie = "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Strict"
        if let maxAge { cookie += "; Max-Age=\(maxAge)" }
        if isSecure(request) { cookie += "; Secure" }
        return cookie
    }

    private func loginPage(_ request: Request, flash: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = Accounts.randomToken()
        var context: [String: Any] = ["title": "Log in", "page": "login", "login_csrf": token]
        if let flash { context["flash"] = flash; context["flash_kind"] = "error" }
        var response = html(library.render(context, withTemplate: "login") ?? "", status: status)
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.loginCookie, token, path: "/login", maxAge: 3600, request: request)))
        return response
    }

    private func login(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let form = try await Self.formBody(request)
        guard let token = form["csrf"], let cookie = request.cookies[Self.loginCookie]?.value, Accounts.constantTimeEqual(token, cookie) else {
            return loginPage(request, flash: "The login form expired; please try again.", status: .forbidden)
        }
        let name = form["name"] ?? ""
        let result = try await accounts.login(name: name, password: form["password"] ?? "", client: context.clientAddress)
        switch result {
        case .success(let sessionToken, let session):
            try AuditLog.append(store, moderator: session.user.name, item: "session", action: "login", reason: "password")
            var response = redirect("/")
            response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, sessionToken, maxAge: Int(accounts.absoluteTimeout), request: request)))
            return response
        case .wrong:
            logger.notice("failed console login", metadata: ["user": "\(name)", "client": "\(context.clientAddress)"])
            return loginPage(request, flash: "Wrong user name or password.", status: .unauthorized)
        case .throttled(let retryAfter):
            logger.warning("console login throttled", metadata: ["user": "\(name)", "client": "\(context.clientAddress)"])
            return loginPage(request, flash: "Too many failed logins. Try again in \(Int(retryAfter / 60) + 1) minutes.", status: .tooManyRequests)
        }
    }

    private func logout(_ session: Session) throws -> Response {
        try accounts.logout(tokenHash: session.tokenHash)
        try AuditLog.append(store, moderator: session.user.name, item: "session", action: "logout", reason: "logout")
        var response = redirect("/login")
        response.headers.append(HTTPField(name: .setCookie, value: "\(Self.sessionCookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"))
        return response
    }

    // MARK: Rendering

    private func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    private func page(_ template: String, title: String, session: Session, status: HTTPResponse.Status = .ok,
                      flash: String? = nil, flashKind: String = "ok", pending known: Int? = nil,
                      extra: [String: Any] = [:]) throws -> Response {
        var context: [String: Any] = [
            "title": title, "page": template, "user": session.user.name, "role": session.user.role.rawValue,
            "is_admin": session.user.role == .admin, "csrf": session.csrf, "nav_\(template)": true,
        ]
        let pending = try known ?? desk.pendingCount()
        if pending > 0 { context["pending"] = pending }
        if let flash { context["flash"] = flash; context["flash_kind"] = flashKind }
        for (key, value) in extra { context[key] = value }
        return html(library.render(context, withTemplate: template) ?? "", status: status)
    }

    // MARK: Queue

    static let releaseReasons = ["Not a violation", "A complaint, not abuse", "Quoting or reporting abuse", "Context makes it acceptable", "Other (see note)"]
    static let removeReasons = ["Breaks the guideline", "Abuse of a person", "Spam or scam", "Personal data posted in public", "Other (see note)"]

    private func queuePage(_ request: Request, session: Session) throws -> Response {
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
    private func queueRows(_ items: [QueueItem], now: Date, prevailing: String?) throws -> [[String: Any]] {
        let keyed = items.map { item -> (item: QueueItem, key: String, claimedBy: String?, waited: String) in
            let claimedBy = item.claimedUntil.map { $0 > now } == true ? item.claimedBy : nil
            let waited = PageParts.waited(since: item.queuedAt, now: now)
            let differs = item.ruleset != nil && prevailing != nil && item.ruleset != prevailing
            return (item, [item.itemID, String(item.version), claimedBy ?? "", waited, differs ? "1" : "0"].joined(separator: "\u{1F}"), claimedBy, waited)
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
            let (item, key, claimedBy, waited) = keyed[index]
            var row: [String: Any] = [
                "item_id": item.itemID, "post_id": item.postID, "version": item.version, "kind": item.kind,
                "kind_label": item.kind == "appeal" ? "appeal" : "held", "author": item.author,
                "guidelines": item.guidelines.joined(separator: ", "), "rules": item.rules.joined(separator: ", "),
                "waited": waited, "preview": PageParts.preview(texts[textID] ?? ""),
                "instance": item.instance ?? "–", "ruleset": item.ruleset ?? "–",
                "ruleset_differs": item.ruleset != nil && prevailing != nil && item.ruleset != prevailing,
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
    private func ruleOptions(_ rules: RuleSet) throws -> String {
        if let cached = ruleOptionsCache.withLock({ $0 }), cached.digest == rules.digest { return cached.html }
        let html = library.render(["rule_ids": rules.ruleIDs], withTemplate: "ruleOptions") ?? ""
        ruleOptionsCache.withLock { $0 = (rules.digest, html) }
        return html
    }

    // MARK: Item

    private func itemPage(_ itemID: String, session: Session, flash: String? = nil, refusal: String? = nil,
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
    private func flashText(_ request: Request) -> String? {
        let query = FormData(request.uri.query ?? "")
        guard let done = query["done"].flatMap(Verdict.init(rawValue:)), let post = query["post"], Post.isValidID(post) else { return nil }
        return "Done: \(done.pastTense) \(post); the action file is in the outbox."
    }

    /// What every page about one decision shows: text with highlights, rules, messages, author card.
    private func decisionContext(_ decision: LoggedDecision, session: Session) throws -> [String: Any] {
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

    private func authorCard(_ authorID: String, name: String? = nil) throws -> [String: Any] {
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

    private func reason(_ form: FormData) -> String {
        let pick = (form["reason_pick"] ?? "").trimmingCharacters(in: .whitespaces)
        let text = (form["reason_text"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if pick.isEmpty { return text }
        if text.isEmpty { return pick }
        return pick + ": " + text
    }

    private func act(on itemID: String, form: FormData, session: Session) throws -> Response {
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

    private func bulk(form: FormData, session: Session) throws -> Response {
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

    private func pardon(form: FormData, session: Session) throws -> Response {
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

    private func escalate(form: FormData, session: Session) throws -> Response {
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

    // MARK: Search and past decisions

    private func searchPage(_ request: Request, session: Session) throws -> Response {
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

    private func decisionPage(_ postID: String, session: Session) throws -> Response {
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

    private func rulesPage(session: Session) throws -> Response {
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
    private func noteReversalRates(_ stats: [String: ReviewDesk.RuleStats]) -> Set<String> {
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

    private func confirmRule(form: FormData, session: Session) throws -> Response {
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

    private func auditPage(_ request: Request, session: Session) throws -> Response {
        let query = FormData(request.uri.query ?? "")
        let entries = try AuditLog.entries(store, moderator: query["moderator"], item: query["item"]).map { entry -> [String: Any] in
            ["id": entry.id, "at": PageParts.time(entry.at), "moderator": entry.moderator, "item": entry.item, "action": entry.action,
             "reason": entry.reason, "before": entry.before, "after": entry.after]
        }
        return try page("audit", title: "Audit log", session: session, extra: ["entries": entries, "moderator": query["moderator"] ?? "", "item": query["item"] ?? ""])
    }

    private func usersPage(session: Session, flash: String?) throws -> Response {
        let users = try accounts.users().map { ["name": $0.name, "role": $0.role.rawValue] }
        return try page("users", title: "Users", session: session, flash: flash, extra: ["users": users])
    }

    private func changeUsers(form: FormData, session: Session) throws -> Response {
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

    private func metrics() async throws -> Response {
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

    private static func label(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// Headers on every response: a Content-Security-Policy that allows no inline script or
/// style and nothing from other origins, no framing, no MIME sniffing, no referrer.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headers: [(HTTPField.Name, String)] {
        [
            ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ].compactMap { name, value in HTTPField.Name(name).map { ($0, value) } }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for (name, value) in Self.headers { response.headers[name] = value }
        return response
    }
}
