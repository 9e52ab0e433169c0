import Foundation
import WardenCore
import Prometheus

/// The daemon's Prometheus metrics. They are always counted (a counter increment is a few
/// nanoseconds); they are only served when `--metrics ADDRESS` is given.
///
/// Metrics with labels are made on first use and cached here, because the registry's own
/// lookup takes a lock and builds a key on every call.
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let judgeLatency: DurationHistogram
    let commitLatency: DurationHistogram
    let inboxDepth: Gauge
    let inFlight: Gauge
    let strikes: Counter
    let shadowDemotions: Counter
    /// Authors read back from the ledger because they were not in memory (see AuthorBook):
    /// a high rate says `memory.max_authors` is small for the page's traffic.
    let authorReads: Counter
    /// 1 while a worker waits for the shared ledger (PostgreSQL unreachable), else 0.
    let ledgerUnavailable: Gauge
    /// Outages of the shared ledger so far (`LedgerOutage`): alert on its increase.
    let ledgerOutages: Counter
    /// When the rules in force were last loaded or reloaded successfully (Unix seconds).
    let rulesLoadedTimestamp: Gauge
    /// 1 if the last reload was applied (or found nothing changed), 0 if it was refused.
    let lastReloadSuccess: Gauge
    let inboxFiles: Gauge
    let outboxFiles: Gauge
    private let process: ProcessMetrics
    private let actionCounters: [Action: Counter]
    private let labelled = Locked<[String: Counter]>([:])

    /// Every label value of a series that is known before it happens, so that each series
    /// exists from start-up at 0 and an alert on `increase()` sees its first event.
    static let failureReasons = ["empty", "invalid_post", "not_regular_file", "too_large", "unreadable"]
    static let reloadResults = ["ok", "refused"]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        judgeLatency = registry.makeDurationHistogram(
            descriptor: Self.name("judge_duration", "seconds", "Time to judge one post against the rules"),
            buckets: [.microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                      .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250)])
        commitLatency = registry.makeDurationHistogram(
            descriptor: Self.name("batch_commit_duration", "seconds",
                                  "Time to make one batch durable: ledger transaction, action files, syncs and renames"),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(500)])
        inboxDepth = registry.makeGauge(descriptor: Self.name("inbox_depth", "", "Posts noticed in inbox/ and not yet claimed"))
        inFlight = registry.makeGauge(descriptor: Self.name("posts_in_flight", "", "Posts claimed into processing/ and not yet finished"))
        strikes = registry.makeCounter(descriptor: Self.name("strikes", "total", "Strikes recorded against authors"))
        shadowDemotions = registry.makeCounter(descriptor: Self.name("rule_demotions", "total", "Rules demoted to shadow mode automatically"))
        authorReads = registry.makeCounter(descriptor: Self.name("author_reads", "total", "Authors read back from the ledger because they were not in memory"))
        ledgerUnavailable = registry.makeGauge(descriptor: Self.name("ledger_unavailable", "", "1 while judging waits for the shared ledger (PostgreSQL unreachable)"))
        ledgerOutages = registry.makeCounter(descriptor: Self.name("ledger_outages", "total", "Times the shared ledger became unreachable while the daemon ran"))
        var counters: [Action: Counter] = [:]
        for action in [Action.allow, .flag, .route, .hold, .hide, .delete, .holdAuthor, .blockAuthor] {
            counters[action] = registry.makeCounter(descriptor: Self.name("posts", "total", "Posts judged, by the action decided"),
                                                    labels: [("action", action.rawValue)])
        }
        actionCounters = counters
        rulesLoadedTimestamp = registry.makeGauge(descriptor: Self.name("rules_loaded_timestamp", "seconds",
                                                                        "When the rules in force were last loaded or reloaded successfully"))
        lastReloadSuccess = registry.makeGauge(descriptor: Self.name("last_reload_success", "", "1 if the last rules reload was applied, 0 if it was refused"))
        lastReloadSuccess.set(to: 1)
        inboxFiles = registry.makeGauge(descriptor: Self.name("inbox_files", "", "Files in inbox/ waiting to be claimed"))
        outboxFiles = registry.makeGauge(descriptor: Self.name("outbox_files", "", "Action files in outbox/ not yet taken by the consumer"))
        process = ProcessMetrics(registry: registry)
        for reason in Self.failureReasons { _ = failureCounter(reason) }
        for result in Self.reloadResults { _ = reloadCounter(result) }
        for action in [Action.holdAuthor, .blockAuthor] { _ = escalationCounter(action) }
    }

    /// `warden_build_info{version,commit} 1`, the Prometheus convention for "which build is this".
    public func recordBuild(version: String, commit: String) {
        registry.makeGauge(descriptor: Self.name("build_info", "", "The running build: version and git commit"),
                           labels: [("version", version), ("commit", commit)]).set(Double(1))
    }

    /// The rules in force changed (start-up or reload): their hit counters exist from now
    /// on, at 0 until a rule matches.
    func rulesLoaded(_ ruleSet: RuleSet, at date: Date = Date()) {
        rulesLoadedTimestamp.set(to: date.timeIntervalSince1970)
        for rule in ruleSet.ruleIDs { _ = ruleHitCounter(rule) }
    }

    /// Reads /proc/self for the process_* series; called when /metrics is scraped.
    func updateProcessMetrics() { process.update() }

    func judged(_ action: Action) { actionCounters[action]?.increment() }

    func ruleHit(_ rule: String) { ruleHitCounter(rule).increment() }

    func failure(_ reason: String) { failureCounter(reason).increment() }

    func reload(_ result: String) {
        reloadCounter(result).increment()
        lastReloadSuccess.set(to: result == "ok" ? 1 : 0)
        if result == "ok" { rulesLoadedTimestamp.set(to: Date().timeIntervalSince1970) }
    }

    func escalation(_ action: Action) { escalationCounter(action).increment() }

    private func ruleHitCounter(_ rule: String) -> Counter { counter("rule_hits", "rule", rule, help: "Posts each rule matched") }
    private func failureCounter(_ reason: String) -> Counter { counter("failures", "reason", reason, help: "Files moved to failed/, by reason") }
    private func reloadCounter(_ result: String) -> Counter { counter("reloads", "result", result, help: "Rule reloads, by result (ok, refused)") }
    private func escalationCounter(_ action: Action) -> Counter {
        counter("escalations", "action", action.rawValue, help: "Authors escalated, by escalation")
    }

    /// warden_NAME_UNIT, the Prometheus naming convention.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "warden", metricName: metric, unitName: unit, helpText: help)
    }

    private func counter(_ name: String, _ label: String, _ value: String, help: String) -> Counter {
        let key = name + "\u{0}" + value
        if let counter = labelled.withLock({ $0[key] }) { return counter }
        let counter = registry.makeCounter(descriptor: Self.name(name, "total", help), labels: [(label, value)])
        labelled.withLock { $0[key] = counter }
        return counter
    }
}
