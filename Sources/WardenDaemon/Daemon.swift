import Dispatch
import Foundation
import Glibc
import Logging
import WardenCore

/// `warden run`: the long-running service, and the composition root that wires its parts.
///
/// The life of a post (docs/ARCHITECTURE.md): `Intake` notices and claims it, `Workers`
/// judge it against the `Rulebook`'s rules in force, the `Committer` makes the outcome
/// durable in order, and the `Spool` performs every move between stage directories. The
/// ops surface is in Ops/: `Signals`, `SystemdNotifier`, `DaemonMetrics`, `DoneRetention`.
///
/// Threads rather than Swift tasks: judging is CPU-bound and the spool's system calls
/// block, and both would starve the cooperative pool (two threads on a 2-core machine)
/// that the metrics server runs on.
public final class Daemon: @unchecked Sendable {
    public let configuration: DaemonConfiguration
    let logger: Logger
    public let metrics: DaemonMetrics
    let notifier: SystemdNotifier
    let layout: SpoolLayout
    private let rulebook: Rulebook
    private let control: MainLoopControl
    private let queue = AuthorOrderedQueue<WorkerJob>()
    private let outcomes = OutcomeQueue()
    private let inFlight: InFlight
    /// Set while running, for `isHealthy`.
    private let committer = Locked<Committer?>(nil)

    /// Loads the rules; a rules directory that does not validate stops start-up here, with
    /// every diagnostic, because there are no earlier rules to keep running.
    /// `matching`: how patterns are compiled and run, from the caller (the CLI reads it from
    /// the environment); its logger defaults to the daemon's.
    public init(configuration: DaemonConfiguration, logger: Logger, metrics: DaemonMetrics = DaemonMetrics(),
                notifier: SystemdNotifier = SystemdNotifier(), matching: MatchingOptions = MatchingOptions()) throws {
        var matching = matching
        if matching.logger == nil { matching.logger = logger }
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.notifier = notifier
        layout = SpoolLayout(root: configuration.stateRoot)
        rulebook = try Rulebook(configuration: configuration, matching: matching, logger: logger, metrics: metrics, notifier: notifier)
        control = try MainLoopControl()
        inFlight = InFlight(control: control)
    }

    /// True while the committer is making progress (see `Committer.isHealthy`).
    public var isHealthy: Bool { committer.withLock { $0?.isHealthy } ?? true }

    /// Asks the daemon to stop as on SIGTERM (for embedding and tests).
    public func stop() {
        control.requestStop()
    }

    /// Runs until SIGTERM or SIGINT; returns after the posts in flight are finished.
    public func run() throws {
        let spool = try Spool(layout: layout)
        let log = try DecisionLog(path: layout.decisionsLog, maxBytes: configuration.decisionsLogMaxBytes, keep: configuration.decisionsLogKeep)
        let ledger: any LedgerStore
        switch configuration.ledger {
        case .sqlite:
            do {
                // With syncfs, the committer's one flush per batch also makes the WAL durable
                // before any action file is renamed in, so SQLite need not fsync on its own.
                ledger = try Ledger(path: layout.ledger, durable: configuration.durable && !Durability.isAvailable)
            } catch {
                throw DaemonError.ledger(path: layout.ledger, underlying: "\(error)")
            }
        case .postgres(let settings):
            // Unreachable at start is an error (systemd restarts the unit): posts wait in inbox/.
            do {
                ledger = try PostgresLedger(settings: settings, logger: logger)
            } catch {
                throw DaemonError.sharedLedger(location: settings.description, underlying: "\(error)")
            }
        }
        try spool.removeTemporaryFiles()
        try rulebook.startGuarding(ledger: ledger)

        let intake = Intake(spool: spool, configuration: configuration, logger: logger, metrics: metrics,
                            queue: queue, outcomes: outcomes, inFlight: inFlight)
        try intake.readLeftovers(ledger: ledger)
        let committer = try Committer(spool: spool, ledger: ledger, log: log, outcomes: outcomes, metrics: metrics, logger: logger,
                                      configuration: configuration, rulebook: rulebook, queue: queue, inFlight: inFlight)
        self.committer.withLock { $0 = committer }
        // Authors are read from the ledger when they first post (`AuthorBook.lookUp`), not
        // all at start-up: memory stays bounded by the capacity however big the ledger is.
        let archive = AuthorArchive(ledger: ledger, committedThrough: committer.ledgerCommitted)
        let capacity = BookCapacity(maxAuthors: configuration.maxAuthorsInMemory,
                                    maxEntries: configuration.maxHistoryEntriesInMemory, shards: queue.shardCount)
        // A shared ledger keeps no author in memory between posts (`Workers.judgeShared`).
        if ledger.sharedAuthors == nil {
            queue.withAllBooks { book in
                book.archive = archive
                book.capacity = capacity
            }
        }
        let outage = ledger.sharedAuthors == nil ? nil
            : LedgerOutage(location: ledger.location, logger: logger, metrics: metrics, postsInFlight: { [inFlight] in inFlight.current })
        committer.outage = outage
        let workers = Workers(rulebook: rulebook, queue: queue, outcomes: outcomes, spool: spool,
                              configuration: configuration, metrics: metrics, logger: logger, shared: ledger.sharedAuthors, outage: outage)

        let threads = DispatchGroup()
        startThread(named: "warden-commit", group: threads) { committer.run() }
        let workerGroup = DispatchGroup()
        for index in 0..<configuration.effectiveWorkers {
            startThread(named: "warden-judge-\(index)", group: workerGroup) { workers.work(workerIndex: index) }
        }

        let signals = Signals.install(control: control, logger: logger)
        let watcher = try DirectoryWatcher()
        try watcher.watch(layout.inbox, mask: UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE))
        watchRules(watcher)

        intake.dispatchLeftovers()
        intake.rescan()
        inFlight.waitForRecovery()
        let server = try configuration.metricsAddress.map { address in
            try MetricsServer.start(address: address, metrics: metrics, logger: logger, healthy: { committer.isHealthy && !(outage?.isActive ?? false) })
        }
        defer { server?.cancel() }
        metrics.rulesLoaded(rulebook.current.loaded)

        logger.notice("warden is running", metadata: [
            "rules": "\(configuration.rulesDirectory)", "ruleset": "\(rulebook.current.ruleSet.digest)", "state": "\(layout.root)",
            "workers": "\(configuration.effectiveWorkers)", "max_authors_in_memory": "\(configuration.maxAuthorsInMemory)",
            "ledger": "\(ledger.location)",
        ])
        notifier.ready(status: "Ready; rules \(rulebook.shortDigest)")

        mainLoop(intake: intake, workers: workers, watcher: watcher, committer: committer, spool: spool, outage: outage)

        // Shutdown: no new claims; workers finish what is queued, the committer makes it
        // durable; nothing is left half-written (temporaries are only renamed when complete).
        notifier.stopping()
        logger.notice("stopping: finishing posts in flight", metadata: ["in_flight": "\(inFlight.current)"])
        queue.close()
        workerGroup.wait()
        outcomes.close()
        threads.wait()
        signals.cancel()
        logger.notice("stopped", metadata: ["judged": "\(committer.totals.current.judged)"])
    }

    // MARK: Main loop: notice, claim, reload, timers

    private func mainLoop(intake: Intake, workers: Workers, watcher: DirectoryWatcher, committer: Committer, spool: Spool, outage: LedgerOutage?) {
        let retention = DoneRetention(directory: layout.done, retention: configuration.doneRetention, logger: logger)
        var lastRescan = POSIX.monotonicNanoseconds()
        var lastWatchdog: UInt64 = 0
        var lastStatus: UInt64 = 0
        var lastPrune = POSIX.monotonicNanoseconds()
        var reloadDue: UInt64?
        let rescanNanos = UInt64(configuration.rescanInterval * 1e9)
        var fds = [pollfd(fd: watcher.fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: control.readFD, events: Int16(POLLIN), revents: 0)]
        while !control.stopRequested {
            let backlog = intake.backlog > 0
            let timeout: Int32 = backlog ? (inFlight.current >= configuration.maxInFlight ? 2 : 0)
                : (reloadDue != nil || intake.rescanSoon ? 50 : 1000)
            _ = poll(&fds, 2, timeout)
            if fds[1].revents != 0 { control.drainWakeUps() }
            if control.stopRequested { break }
            let (events, overflowed) = watcher.drain()
            for event in events {
                if event.directory == layout.inbox {
                    intake.noticed(event)
                } else {
                    reloadDue = POSIX.monotonicNanoseconds() + UInt64(configuration.reloadDebounce * 1e9)
                }
            }
            var now = POSIX.monotonicNanoseconds()
            if overflowed {
                logger.warning("inotify queue overflowed; rescanning inbox/")
                intake.rescan()
                lastRescan = now
            } else if now - lastRescan >= rescanNanos || (intake.rescanSoon && now - lastRescan >= 1_000_000_000) || intake.wantsRefill {
                intake.rescan()
                lastRescan = now
                if now - lastPrune >= UInt64(configuration.pruneInterval * 1e9) {
                    lastPrune = now
                    workers.pruneMemory()
                }
                retention.sweepIfDue(now: now)
            }
            if control.takeReloadRequest() {
                reloadDue = now
            }
            if let due = reloadDue, now >= due {
                reloadDue = nil
                rulebook.startReload()
                watchRules(watcher)
            }
            intake.dispatchPending()
            now = POSIX.monotonicNanoseconds()
            if let interval = notifier.watchdogInterval, now - lastWatchdog >= UInt64(interval.components.seconds) * 1_000_000_000 + UInt64(interval.components.attoseconds / 1_000_000_000) {
                // Pet the watchdog only while the committer is alive: a wedged disk should
                // let systemd restart us, not be hidden by a healthy main loop.
                if committer.isHealthy {
                    notifier.watchdog()
                }
                lastWatchdog = now
            }
            if now - lastStatus >= 5_000_000_000 {
                lastStatus = now
                let totals = committer.totals.current
                let waiting = outage?.statusSuffix ?? ""
                notifier.status("Judged \(totals.judged) posts (\(totals.acted) acted on, \(totals.failed) failed); rules \(rulebook.shortDigest); inbox \(intake.backlog)\(waiting)")
                metrics.inboxDepth.set(Double(intake.backlog))
                metrics.inFlight.set(Double(inFlight.current))
                metrics.inboxFiles.set(Double(spool.fileCount(.inbox)))
                metrics.outboxFiles.set(Double(spool.fileCount(.outbox)))
            }
        }
    }

    private func watchRules(_ watcher: DirectoryWatcher) {
        let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_CREATE)
        let roots = RuleOverlay(path: configuration.rulesDirectory).map { [$0.shipped, $0.local] } ?? [configuration.rulesDirectory]
        for directory in roots.flatMap({ [$0, $0 + "/wordlists"] }) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            do {
                try watcher.watch(directory, mask: mask)
            } catch {
                logger.warning("cannot watch the rules directory; reload with SIGHUP instead", metadata: ["error": "\(error)"])
            }
        }
    }

    private func startThread(named name: String, group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            POSIX.nameCurrentThread(name)
            body()
            group.leave()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// Why the daemon could not start, phrased for the person reading journalctl.
public enum DaemonError: Error, CustomStringConvertible {
    case rulesInvalid(directory: String, diagnostics: [String])
    case ledger(path: String, underlying: String)
    case sharedLedger(location: String, underlying: String)
    case metrics(address: String, underlying: String)

    public var description: String {
        switch self {
        case .rulesInvalid(let directory, let diagnostics):
            return "the rules in \(directory) do not validate, so warden cannot start (run `warden check \(directory)`):\n"
                + diagnostics.joined(separator: "\n")
        case .ledger(let path, let underlying):
            return "cannot open the strike ledger \(path): \(underlying); check that the state directory is writable by the warden user"
        case .sharedLedger(let location, let underlying):
            return "cannot use the shared ledger \(location): \(underlying); check that the server is up, the user may connect (password from ledger_password_file or WARDEN_LEDGER_PASSWORD), and docs/STORAGE.md"
        case .metrics(let address, let underlying):
            return "cannot serve metrics on \(address): \(underlying); free the port or change `metrics` in warden.yaml (or --metrics)"
        }
    }
}
