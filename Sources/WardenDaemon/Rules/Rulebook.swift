import Foundation
import Logging
import WardenCore

/// The rules in force and a generation number that changes on every successful reload;
/// a worker compares generations between posts and rebuilds its `Judge` when it changed,
/// so a swap is atomic between posts and never in the middle of one.
struct RulesInForce: Sendable {
    var generation: Int
    /// What the workers judge with: `loaded` with demoted rules in shadow mode.
    var ruleSet: RuleSet
    /// The rules directory as loaded and validated.
    var loaded: RuleSet
    var demoted: Set<String> = []

    /// How far back the rules look at an author's posts (`repeat_post`, `flood`), capped by
    /// `retention.history`: no more history is kept in memory or in the ledger than that.
    func historyWindow(cap: TimeInterval) -> TimeInterval {
        let longest = loaded.rules.map { max($0.conditions.repeatPostWithin ?? 0, $0.conditions.flood?.within ?? 0) }.max() ?? 0
        return min(cap, longest)
    }

    func with(loaded: RuleSet, demoted: Set<String>) -> RulesInForce {
        RulesInForce(generation: generation + 1, ruleSet: demoted.isEmpty ? loaded : loaded.demoting(demoted),
                     loaded: loaded, demoted: demoted)
    }
}

/// Owns the rules in force: the first load, reloads (SIGHUP or a change in the rules
/// directory), and shadow demotion of runaway new rules (`ShadowGuard`).
final class Rulebook: Sendable {
    private let configuration: DaemonConfiguration
    private let matching: MatchingOptions
    private let logger: Logger
    private let metrics: DaemonMetrics
    private let notifier: SystemdNotifier
    private let state: Locked<RulesInForce>
    private let shadowGuard = Locked<ShadowGuard?>(nil)
    private let reloadState = Locked<(running: Bool, again: Bool)>((false, false))

    /// Loads the rules; a rules directory that does not validate stops start-up here, with
    /// every diagnostic, because there are no earlier rules to keep running.
    init(configuration: DaemonConfiguration, matching: MatchingOptions, logger: Logger, metrics: DaemonMetrics,
         notifier: SystemdNotifier) throws(DaemonError) {
        self.configuration = configuration
        self.matching = matching
        self.logger = logger
        self.metrics = metrics
        self.notifier = notifier
        let ruleSet: RuleSet
        do {
            ruleSet = try RuleLoader.load(directory: configuration.rulesDirectory, runExamples: true, options: matching)
        } catch {
            throw DaemonError.rulesInvalid(directory: configuration.rulesDirectory, diagnostics: error.diagnostics.map(\.description))
        }
        state = Locked(RulesInForce(generation: 1, ruleSet: ruleSet, loaded: ruleSet))
        for warning in ruleSet.warnings {
            logger.warning("\(warning.description)")
        }
    }

    var current: RulesInForce { state.current }

    /// Strikes older than this no longer count: the ledger forgets them.
    var strikeWindow: TimeInterval { state.current.ruleSet.escalation.window }

    /// How much post history is kept (see `RulesInForce.historyWindow`).
    var historyWindow: TimeInterval { state.current.historyWindow(cap: configuration.historyWindow) }

    // MARK: Shadow demotion

    /// Starts watching for runaway rules, with the guard's state kept in the ledger; rules
    /// demoted by an earlier run stay demoted. A ledger that cannot be read stops start-up.
    func startGuarding(ledger: any LedgerStore) throws {
        let guardian = try ShadowGuard(ledger: ledger, limits: configuration.shadowGuard)
        let demoted = try guardian.rulesLoaded(state.current.loaded)
        shadowGuard.withLock { $0 = guardian }
        if !demoted.isEmpty {
            state.withLock { $0 = $0.with(loaded: $0.loaded, demoted: demoted) }
            logger.warning("rules stay in shadow mode until a moderator confirms them (`warden confirm RULE`)",
                           metadata: ["rules": "\(demoted.sorted().joined(separator: ","))"])
        }
    }

    /// Called by a worker for every post it judged, before the post's action file is
    /// written: counts the rules the post was enforced by, and when one of them is recent
    /// and crosses the guard's threshold with this post, demotes it to shadow mode at once.
    /// Returns true when a rule that acted on this post is demoted: the worker then judges
    /// the post again with the rules now in force, so at most the threshold's worth of
    /// posts are acted on by a runaway rule, whatever the batch size or worker count.
    /// Every post counts, clean ones included: the share is of all judged posts.
    func admit(_ decision: Decision, now: Date = Date()) -> Bool {
        let result = shadowGuard.withLock { guardian -> (newly: [String], rejudge: Bool, error: String?) in
            guard let guardian else { return ([], false, nil) }
            var newly: [String] = []
            var failure: String?
            do {
                newly = try guardian.observe(enforcedRules: decision.rules, now: now)
            } catch {
                newly = decision.rules.filter { guardian.demoted.contains($0) && !state.current.demoted.contains($0) }
                failure = "\(error)"
            }
            if !newly.isEmpty {
                // Inside the guard's lock (the only nesting, always guard then state), so
                // another worker that sees the rule demoted also sees the new rules.
                let demoted = guardian.demoted
                state.withLock { $0 = $0.with(loaded: $0.loaded, demoted: demoted) }
            }
            return (newly, decision.rules.contains { guardian.demoted.contains($0) }, failure)
        }
        if let error = result.error {
            logger.error("cannot record a rule demotion in the ledger; it is demoted until restart", metadata: ["error": "\(error)"])
        }
        for rule in result.newly {
            metrics.shadowDemotions.increment()
            logger.error("rule demoted to shadow mode: it was changed recently and acted on too many of the last posts; it is judged and logged but not enforced until a moderator runs `warden confirm \(rule)`",
                         metadata: ["rule": "\(rule)", "post": "\(decision.postID)"])
        }
        return result.rejudge
    }

    /// Twice a second, from the committer: rules a moderator confirmed are enforced again.
    /// On a shared ledger a failed read is part of the one outage (`LedgerOutage`), not a
    /// log line twice a second.
    func checkConfirmations(outage: LedgerOutage? = nil) {
        let checked = shadowGuard.withLock { guardian -> Result<(lifted: [String], demoted: Set<String>), any Error>? in
            guard let guardian else { return nil }
            return Result { (try guardian.checkConfirmations(), guardian.demoted) }
        }
        guard let checked else { return }
        let lifted: (lifted: [String], demoted: Set<String>)
        switch checked {
        case .success(let value):
            lifted = value
            outage?.succeeded("shadow-guard")
        case .failure(let error):
            if let outage {
                outage.failed("shadow-guard", error: error)
                return
            }
            logger.error("cannot read rule confirmations from the ledger", metadata: ["error": "\(error)"])
            return
        }
        guard !lifted.lifted.isEmpty else { return }
        let result = lifted
        state.withLock { $0 = $0.with(loaded: $0.loaded, demoted: result.demoted) }
        logger.notice("rules confirmed by a moderator: enforced again", metadata: ["rules": "\(result.lifted.joined(separator: ","))"])
    }

    // MARK: Reload

    /// Loads on a thread of its own: validating a rules directory runs every example and
    /// can take a second, during which posts must keep flowing on the rules in force.
    /// One reload at a time; a request during one runs once more after it.
    func startReload() {
        let start = reloadState.withLock { state -> Bool in
            if state.running { state.again = true; return false }
            state.running = true
            return true
        }
        guard start else { return }
        let thread = Thread { [self] in
            var again = true
            while again {
                reload()
                again = reloadState.withLock { state -> Bool in
                    let again = state.again
                    state.again = false
                    if !again { state.running = false }
                    return again
                }
            }
        }
        thread.name = "warden-reload"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Loads and validates the whole rules directory, examples included, and swaps it in.
    /// A directory that does not validate is refused: every diagnostic is logged, the
    /// running rules stay in force, and `warden_reloads_total{result="refused"}` counts it.
    func reload() {
        notifier.reloading()
        let started = POSIX.monotonicNanoseconds()
        let current = state.current
        do {
            let ruleSet = try RuleLoader.load(directory: configuration.rulesDirectory, runExamples: true, options: matching)
            if ruleSet.digest == current.loaded.digest {
                logger.info("rules unchanged", metadata: ["ruleset": "\(ruleSet.digest)"])
            } else {
                let demoted: Set<String>
                do {
                    demoted = try shadowGuard.withLock { guardian throws -> Set<String> in try guardian?.rulesLoaded(ruleSet) ?? [] }
                } catch {
                    logger.error("cannot record the changed rules for the shadow guard; earlier demotions stay", metadata: ["error": "\(error)"])
                    demoted = current.demoted
                }
                state.withLock { $0 = $0.with(loaded: ruleSet, demoted: demoted) }
                metrics.rulesLoaded(ruleSet)
                for warning in ruleSet.warnings { logger.warning("\(warning.description)") }
                logger.notice("rules reloaded", metadata: [
                    "ruleset": "\(ruleSet.digest)", "previous": "\(current.ruleSet.digest)", "rules": "\(ruleSet.ruleIDs.count)",
                    "ms": "\((POSIX.monotonicNanoseconds() - started) / 1_000_000)",
                ])
            }
            metrics.reload("ok")
        } catch {
            metrics.reload("refused")
            logger.error("rules change refused; the running rules stay in force", metadata: [
                "ruleset": "\(current.ruleSet.digest)", "problems": "\(error.diagnostics.count)",
            ])
            for diagnostic in error.diagnostics {
                logger.error("\(diagnostic.description)")
            }
        }
        notifier.ready(status: "Ready; rules \(shortDigest)")
    }

    /// The digest's first 12 hex digits, for status lines.
    var shortDigest: String {
        let digest = state.current.ruleSet.digest
        return digest.hasPrefix("sha256:") ? String(digest.prefix(19)) : digest
    }
}
