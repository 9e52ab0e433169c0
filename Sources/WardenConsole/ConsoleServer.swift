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
    let ruleSet: Mutex<RuleSet>
    let flaggedRules = Mutex<Set<String>>([])
    let indexerStop = Mutex(false)
    let rowCache = Mutex<[String: String]>([:])
    let ruleOptionsCache = Mutex<(digest: String, html: String)?>(nil)

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
    func startIndexer(_ indexer: LogIndexer) {
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

    func addRoutes(_ router: Router<ConsoleRequestContext>) {
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

    static func asset(_ text: String, type: String) -> Response {
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
    func withSession(_ request: Request, post: Bool = false, admin: Bool = false,
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

    static func offload(_ work: @escaping @Sendable () throws -> Response) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
        }
    }

    static func formBody(_ request: Request) async throws -> FormData {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return FormData(String(buffer: buffer))
    }

    static func isSecure(_ request: Request) -> Bool {
        guard let name = HTTPField.Name("X-Forwarded-Proto") else { return false }
        return request.headers[name]?.lowercased() == "https"
    }

    static func cookie(_ name: String, _ value: String, path: String = "/", maxAge: Int?, request: Request) -> String {
        var cookie = "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Strict"
        if let maxAge { cookie += "; Max-Age=\(maxAge)" }
        if isSecure(request) { cookie += "; Secure" }
        return cookie
    }

    func loginPage(_ request: Request, flash: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = Accounts.randomToken()
        var context: [String: Any] = ["title": "Log in", "page": "login", "login_csrf": token]
        if let flash { context["flash"] = flash; context["flash_kind"] = "error" }
        var response = html(library.render(context, withTemplate: "login") ?? "", status: status)
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.loginCookie, token, path: "/login", maxAge: 3600, request: request)))
        return response
    }

    func login(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
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

    func logout(_ session: Session) throws -> Response {
        try accounts.logout(tokenHash: session.tokenHash)
        try AuditLog.append(store, moderator: session.user.name, item: "session", action: "logout", reason: "logout")
        var response = redirect("/login")
        response.headers.append(HTTPField(name: .setCookie, value: "\(Self.sessionCookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"))
        return response
    }

    // MARK: Rendering

    func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    func page(_ template: String, title: String, session: Session, status: HTTPResponse.Status = .ok,
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
