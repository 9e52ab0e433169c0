import Dispatch
import Foundation
import WardenCore
import Glibc
import Logging

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

/// `warden run`: the long-running service. One thread watches the inbox and claims posts,
/// N workers judge them, one committer makes batches durable (see `Committer`).
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

    private let rules: Locked<RulesInForce>
    private let queue = AuthorOrderedQueue<WorkerJob>()
    private let outcomes = OutcomeQueue()
    private let inFlight = Locked<Int>(0)
    private let recoveryRemaining = Locked<Int>(0)
    private let stopRequested = Locked<Bool>(false)
    private let heartbeat = Locked<UInt64>(POSIX.monotonicNanoseconds())
    private let ledgerCommitted = Locked<UInt64>(0)
    private let wakePipe: (read: Int32, write: Int32)
    private var signalSources: [any DispatchSourceSignal] = []
    private var nextFileID = 0
    private var shadowGuard: Locked<ShadowGuard>?
    private var pending = RingBuffer<String>()
    /// A name could not be claimed yet (same name in processing/): rescan within a second.
    private var rescanSoon = false
    private var pendingSet: Set<String> = []

    /// Loads the rules; a rules directory that does not validate stops start-up here, with
    /// every diagnostic, because there are no earlier rules to keep running.
    public init(configuration: DaemonConfiguration, logger: Logger, metrics: DaemonMetrics = DaemonMetrics(),
                notifier: SystemdNotifier = SystemdNotifier()) throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.notifier = notifier
        layout = SpoolLayout(root: configuration.stateRoot)
        let ruleSet: RuleSet
        do {
            ruleSet = try RuleLoader.load(directory: configuration.rulesDirectory, runExamples: true)
        } catch {
            throw DaemonError.rulesInvalid(directory: configuration.rulesDirectory, diagnostics: error.diagnostics.map(\.description))
        }
        rules = Locked(RulesInForce(generation: 1, ruleSet: ruleSet, loaded: ruleSet))
        for warning in ruleSet.warnings {
            logger.warning("\(warning.description)")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError("pipe", "(wake-up pipe)") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        wakePipe = (fds[0], fds[1])
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// True while the committer is making progress (it turns at least twice a second when
    /// idle); false if a batch has been stuck for 30 s, e.g. on a full or wedged disk.
    public var isHealthy: Bool { POSIX.monotonicNanoseconds() - heartbeat.current < 30_000_000_000 }

    /// Asks the daemon to stop as on SIGTERM (for embedding and tests).
    public func stop() {
        stopRequested.withLock { $0 = true }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakePipe.write, &byte, 1)
    }

    /// Runs until SIGTERM or SIGINT; returns after the posts in flight are finished.
    public func run() throws {
        let spool = try Spool(layout: layout)
        let log = try DecisionLog(path: layout.decisionsLog, maxBytes: configuration.decisionsLogMaxBytes, keep: configuration.decisionsLogKeep)
        let ledger: Ledger
        do {
            // With syncfs, the committer's one flush per batch also makes the WAL durable
            // before any action file is renamed in, so SQLite need not fsync on its own.
            ledger = try Ledger(path: layout.ledger, durable: configuration.durable && !Durability.isAvailable)
        } catch {
            throw DaemonError.ledger(path: layout.ledger, underlying: "\(error)")
        }
        try spool.removeTemporaryFiles()
        let guardian = Locked(ShadowGuard(stateDirectory: layout.state))
        shadowGuard = guardian
        let initiallyDemoted = guardian.withLock { $0.rulesLoaded(rules.current.loaded) }
        if !initiallyDemoted.isEmpty {
            rules.withLock { $0 = $0.with(loaded: $0.loaded, demoted: initiallyDemoted) }
            logger.warning("rules stay in shadow mode until a moderator confirms them (`warden confirm RULE`)",
                           metadata: ["rules": "\(initiallyDemoted.sorted().joined(separator: ","))"])
        }

        // Recovery: posts left in processing/ are read first, their ledger rows undone, and
        // they are judged again before anything new (see `Ledger.undo`).
        let leftovers = try spool.pending(in: layout.processing)
        let recovered = leftovers.map { name in (name, readAndParse(spool: spool, name: name)) }
        let recoveredAt = Date()
        let recoveredPosts = recovered.flatMap { item -> [(postID: String, at: Date)] in
            guard case .success(let parsed) = item.1 else { return [] }
            // The event time `dispatch` gives the post, which is what its ledger rows carry.
            return parsed.posts.map { ($0.id, min($0.createdAt.flatMap(PostTime.parse) ?? parsed.modified, recoveredAt)) }
        }
        try ledger.undo(recoveredPosts)
        // Authors are read from the ledger when they first post (`AuthorBook.lookUp`), not
        // all at start-up: memory stays bounded by the capacity however big the ledger is.
        let archive = AuthorArchive(ledger: ledger, committedThrough: ledgerCommitted)
        let capacity = BookCapacity(maxAuthors: configuration.maxAuthorsInMemory,
                                    maxEntries: configuration.maxHistoryEntriesInMemory, shards: queue.shardCount)
        queue.withAllBooks { book in
            book.archive = archive
            book.capacity = capacity
        }

        let committer = try Committer(
            spool: spool, ledger: ledger, log: log, outcomes: outcomes, metrics: metrics, logger: logger,
            configuration: configuration, heartbeat: heartbeat, ledgerCommitted: ledgerCommitted,
            strikeWindow: { [rules] in rules.current.ruleSet.escalation.window },
            historyWindow: { [rules, configuration] in rules.current.historyWindow(cap: configuration.historyWindow) },
            onPardons: { [queue] pardons in
                for pardon in pardons { queue.push(.pardon(pardon), shard: queue.shard(of: pardon.author)) }
            },
            afterBatch: { [weak self] judged in self?.watchForRunawayRules(judged) },
            onTick: { [weak self] in self?.checkConfirmations() },
            onFinished: { [weak self] released, files in self?.finished(released: released, files: files) })

        let threads = DispatchGroup()
        startThread(named: "warden-commit", group: threads) { committer.run() }
        let workerGroup = DispatchGroup()
        for index in 0..<configuration.effectiveWorkers {
            startThread(named: "warden-judge-\(index)", group: workerGroup) { [self] in work(workerIndex: index, spool: spool) }
        }

        installSignalHandlers()
        let watcher = try DirectoryWatcher()
        try watcher.watch(layout.inbox, mask: UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE))
        watchRules(watcher)

        recoveryRemaining.withLock { $0 = leftovers.count }
        for (name, parsed) in recovered { dispatch(name: name, parsed: parsed) }
        if !leftovers.isEmpty {
            logger.notice("judging posts left in processing/ by an earlier run", metadata: ["files": "\(leftovers.count)"])
        }
        rescan(spool: spool)
        while recoveryRemaining.current > 0 && !stopRequested.current { usleep(1000) }

        let ruleSet = rules.current.ruleSet
        logger.notice("warden is running", metadata: [
            "rules": "\(configuration.rulesDirectory)", "ruleset": "\(ruleSet.digest)", "state": "\(layout.root)",
            "workers": "\(configuration.effectiveWorkers)", "max_authors_in_memory": "\(configuration.maxAuthorsInMemory)",
        ])
        notifier.ready(status: statusLine())

        mainLoop(spool: spool, watcher: watcher, committer: committer)

        // Shutdown: no new claims; workers finish what is queued, the committer makes it
        // durable; nothing is left half-written (temporaries are only renamed when complete).
        notifier.stopping()
        logger.notice("stopping: finishing posts in flight", metadata: ["in_flight": "\(inFlight.current)"])
        queue.close()
        workerGroup.wait()
        outcomes.close()
        threads.wait()
        for source in signalSources { source.cancel() }
        logger.notice("stopped", metadata: ["judged": "\(committer.totals.current.judged)"])
    }

    // MARK: Main loop: notice, claim, parse, dispatch

    private func mainLoop(spool: Spool, watcher: DirectoryWatcher, committer: Committer) {
        var lastRescan = POSIX.monotonicNanoseconds()
        var lastWatchdog: UInt64 = 0
        var lastStatus: UInt64 = 0
        var lastPrune = POSIX.monotonicNanoseconds()
        var reloadDue: UInt64?
        let rescanNanos = UInt64(configuration.rescanInterval * 1e9)
        var fds = [pollfd(fd: watcher.fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
        while !stopRequested.current {
            let backlog = !pending.isEmpty
            let timeout: Int32 = backlog ? (inFlight.current >= configuration.maxInFlight ? 2 : 0) : (reloadDue != nil || rescanSoon ? 50 : 1000)
            _ = poll(&fds, 2, timeout)
            if fds[1].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while Glibc.read(wakePipe.read, &sink, sink.count) > 0 {}
            }
            if stopRequested.current { break }
            let (events, overflowed) = watcher.drain()
            for event in events {
                if event.directory == layout.inbox {
                    // IN_CREATE only matters for things that are not regular files (a symlink,
                    // a FIFO, a directory): they never send IN_CLOSE_WRITE, and they go straight
                    // to failed/. A regular file is claimed when closed or renamed in, never
                    // when merely created, or a half-written post would be read.
                    if event.mask & UInt32(IN_CREATE) != 0 && !isSpecialFile(spool: spool, name: event.name) { continue }
                    enqueue(event.name)
                } else {
                    reloadDue = POSIX.monotonicNanoseconds() + UInt64(configuration.reloadDebounce * 1e9)
                }
            }
            var now = POSIX.monotonicNanoseconds()
            if overflowed {
                logger.warning("inotify queue overflowed; rescanning inbox/")
                rescan(spool: spool)
                lastRescan = now
            } else if now - lastRescan >= rescanNanos || (rescanSoon && now - lastRescan >= 1_000_000_000) {
                rescanSoon = false
                rescan(spool: spool)
                lastRescan = now
                pruneBooks(&lastPrune, now: now)
                sweepDone(now: now)
            }
            if reloadRequested.withLock({ let value = $0; $0 = false; return value }) {
                reloadDue = now
            }
            if let due = reloadDue, now >= due {
                reloadDue = nil
                startReload()
                watchRules(watcher)
            }
            dispatchPending(spool: spool)
            now = POSIX.monotonicNanoseconds()
            if let interval = notifier.watchdogInterval, now - lastWatchdog >= UInt64(interval.components.seconds) * 1_000_000_000 + UInt64(interval.components.attoseconds / 1_000_000_000) {
                // Pet the watchdog only while the committer is alive: a wedged disk should
                // let systemd restart us, not be hidden by a healthy main loop.
                if isHealthy {
                    notifier.watchdog()
                }
                lastWatchdog = now
            }
            if now - lastStatus >= 5_000_000_000 {
                lastStatus = now
                notifier.status(statusLine(committer: committer))
                metrics.inboxDepth.set(Double(pending.count))
                metrics.inFlight.set(Double(inFlight.current))
            }
        }
    }

    private func isSpecialFile(spool: Spool, name: String) -> Bool {
        var info = stat()
        guard fstatat(spool.inbox, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        return info.st_mode & S_IFMT != S_IFREG
    }

    private func enqueue(_ name: String) {
        guard Spool.isCandidate(name), !pendingSet.contains(name) else { return }
        pending.append(name)
        pendingSet.insert(name)
    }

    private func rescan(spool: Spool) {
        do {
            for name in try spool.pending(in: layout.inbox) { enqueue(name) }
        } catch {
            logger.error("cannot list inbox/", metadata: ["error": "\(error)"])
        }
        metrics.inboxDepth.set(Double(pending.count))
    }

    /// Claims and dispatches noticed names while there is room in flight.
    private func dispatchPending(spool: Spool) {
        var index = 0
        while !pending.isEmpty {
            if inFlight.current >= configuration.maxInFlight { return }
            guard let name = pending.popFirst() else { return }
            pendingSet.remove(name)
            index += 1
            do {
                switch try spool.claim(name) {
                case .claimed: break
                case .gone: continue
                case .busy:
                    logger.info("a post with the same file name is still being judged; claiming this one shortly", metadata: ["file": "inbox/\(name)"])
                    rescanSoon = true
                    continue
                }
            } catch {
                logger.error("cannot claim a post", metadata: ["error": "\(error)"])
                continue
            }
            dispatch(name: name, parsed: readAndParse(spool: spool, name: name))
            // Hand over in small slices so the loop keeps noticing signals and reloads
            // during a large backlog.
            if index >= 512 { return }
        }
    }

    struct ParsedFile: Sendable {
        var posts: [Post]
        var rejectedLines: [RejectedLine]
        var modified: Date
    }

    /// Reads a claimed file and parses it: one post for NAME.json, one per line for NAME.jsonl.
    private func readAndParse(spool: Spool, name: String) -> Result<ParsedFile, Rejection> {
        let read = spool.read(name, maxBytes: configuration.limits.maxFileBytes * (name.hasSuffix(".jsonl") ? 64 : 1))
        guard case .success(let (bytes, modified)) = read else {
            if case .failure(let rejection) = read { return .failure(rejection) }
            return .failure(Rejection(category: "unreadable", reason: "unreadable"))
        }
        if name.hasSuffix(".jsonl") {
            var posts: [Post] = []
            var rejected: [RejectedLine] = []
            var lineNumber = 0
            for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                var content = Array(line)
                if content.last == UInt8(ascii: "\r") { content.removeLast() }
                if content.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                do throws(PostError) {
                    posts.append(try PostParser.parse(content, limits: configuration.limits))
                } catch {
                    rejected.append(RejectedLine(line: lineNumber, bytes: content + [10], reason: error.reason))
                }
            }
            return .success(ParsedFile(posts: posts, rejectedLines: rejected, modified: modified))
        }
        do throws(PostError) {
            return .success(ParsedFile(posts: [try PostParser.parse(bytes, limits: configuration.limits)], rejectedLines: [], modified: modified))
        } catch {
            return .failure(Rejection(category: "invalid_post", reason: error.reason))
        }
    }

    private func dispatch(name: String, parsed: Result<ParsedFile, Rejection>) {
        let claimedAt = POSIX.monotonicNanoseconds()
        switch parsed {
        case .failure(let rejection):
            inFlight.withLock { $0 += 1 }
            outcomes.push(.rejected(name: name, rejection: rejection))
        case .success(let file):
            nextFileID += 1
            let fileID = nextFileID
            inFlight.withLock { $0 += max(1, file.posts.count) }
            outcomes.push(.claimed(fileID: fileID, name: name, posts: file.posts.count, rejectedLines: file.rejectedLines))
            let now = Date()
            for post in file.posts {
                let eventTime = min(post.createdAt.flatMap(PostTime.parse) ?? file.modified, now)
                queue.push(.post(PostJob(post: post, fileID: fileID, eventTime: eventTime, claimedAt: claimedAt)),
                           shard: queue.shard(of: post.authorID))
            }
        }
    }

    /// Called by the committer when posts and files are finished (durable and moved out).
    private func finished(released: Int, files: Int) {
        inFlight.withLock { $0 = max(0, $0 - released) }
        if recoveryRemaining.current > 0 { recoveryRemaining.withLock { $0 = max(0, $0 - files) } }
        wake()
    }

    // MARK: Workers

    private func work(workerIndex: Int, spool: Spool) {
        var temporaryCounter = 0
        var judge: Judge?
        var generation = 0
        var historyWindow: TimeInterval = 0
        while let (shard, job) = queue.take() {
            let book = queue.books[shard]
            switch job {
            case .post(let item):
                let inForce = rules.current
                if inForce.generation != generation || judge == nil {
                    judge = Judge(ruleSet: inForce.ruleSet, organisation: configuration.organisation)
                    generation = inForce.generation
                    historyWindow = inForce.historyWindow(cap: configuration.historyWindow)
                }
                guard let judge else { continue }
                if let appealed = item.post.appealOf {
                    // An appeal is logged for the review console, never judged (no strike, no history).
                    let decision = Decision.appeal(item.post, appealing: appealed, at: Date(), ruleset: inForce.ruleSet.digest)
                    let change = LedgerChange(postID: item.post.id, author: item.post.authorID, at: item.eventTime, textDigest: 0, strikeGuidelines: [])
                    book.queued(author: item.post.authorID, sequence: outcomes.push(.judged(
                        JudgedPost(fileID: item.fileID, decision: decision, change: change, isEdit: false, claimedAt: item.claimedAt))))
                    queue.release(shard: shard)
                    continue
                }
                lookUp(item.post.authorID, at: item.eventTime, historyWindow: historyWindow, in: book)
                let isEdit = book.isKnown(item.post)
                let started = POSIX.monotonicNanoseconds()
                var decision = judge.judge(item.post, history: book.history(for: item.post), now: item.eventTime)
                metrics.judgeLatency.recordNanoseconds(Int64(POSIX.monotonicNanoseconds() - started))
                decision.decidedAt = Date()
                decision.postText = item.post.text
                let change = book.record(&decision, post: item.post, at: item.eventTime, policy: inForce.ruleSet.escalation,
                                         historyWindow: historyWindow)
                var judged = JudgedPost(fileID: item.fileID, decision: decision, change: change, isEdit: isEdit, claimedAt: item.claimedAt)
                if decision.needsActionFile {
                    // Written here, on the worker, not flushed: creating files costs the
                    // kernel more than judging (ext4 inode allocation), and the workers run
                    // in parallel where the committer is one thread. The committer flushes
                    // and renames it; if this write fails (disk full) the committer retries it.
                    temporaryCounter += 1
                    let temporary = ".\(decision.postID).json.\(workerIndex)-\(temporaryCounter).tmp"
                    judged.temporaryName = temporary
                    judged.temporaryWritten = (try? POSIX.writeFile(dir: spool.outbox, name: temporary, bytes: decision.actionFileJSON(),
                                                                    what: "outbox/\(temporary)")) != nil
                }
                book.queued(author: item.post.authorID, sequence: outcomes.push(.judged(judged)))
            case .pardon(let pardon):
                book.apply(pardon)
                book.queued(author: pardon.author, sequence: outcomes.push(.pardon(pardon)))
            }
            queue.release(shard: shard)
        }
    }

    /// Reads an author back from the ledger if needed. A failed read (I/O error) is retried
    /// with back-off rather than judging on a partial past: strike counts must be exact.
    private func lookUp(_ author: String, at: Date, historyWindow: TimeInterval, in book: AuthorBook) {
        var attempt = 0
        while true {
            do {
                if try book.lookUp(author: author, at: at, historyWindow: historyWindow) { metrics.authorReads.increment() }
                return
            } catch {
                attempt += 1
                if attempt == 1 || attempt % 20 == 0 {
                    logger.error("cannot read an author's strikes and history from the ledger; retrying",
                                 metadata: ["author": "\(author)", "error": "\(error)", "attempt": "\(attempt)"])
                }
                Thread.sleep(forTimeInterval: min(5.0, 0.05 * pow(2.0, Double(min(attempt, 7)))))
            }
        }
    }

    private let sweeping = Locked<Bool>(false)
    private var lastSweep: UInt64 = 0

    /// Deletes done/ files older than the configured retention, hourly, on a thread of its
    /// own: a first sweep over months of posts may take minutes and must not stall claims.
    /// Age is the file's ctime, i.e. when it was renamed into done/.
    private func sweepDone(now: UInt64) {
        guard let retention = configuration.doneRetention, lastSweep == 0 || now - lastSweep >= 3_600_000_000_000,
              sweeping.withLock({ let busy = $0; $0 = true; return !busy }) else { return }
        lastSweep = now
        let path = layout.done
        let logger = self.logger
        let sweeping = self.sweeping
        let thread = Thread {
            defer { sweeping.withLock { $0 = false } }
            let cutoff = Date().addingTimeInterval(-retention).timeIntervalSince1970
            guard let names = try? POSIX.listDirectory(path) else { return }
            var removed = 0
            for name in names {
                var info = stat()
                guard lstat(path + "/" + name, &info) == 0, TimeInterval(info.st_ctim.tv_sec) < cutoff else { continue }
                if unlink(path + "/" + name) == 0 { removed += 1 }
            }
            if removed > 0 { logger.info("removed old posts from done/", metadata: ["files": "\(removed)", "retention_days": "\(retention / 86_400)"]) }
        }
        thread.name = "warden-retention"
        thread.start()
    }

    private func pruneBooks(_ lastPrune: inout UInt64, now: UInt64) {
        guard now - lastPrune >= 600_000_000_000 else { return }
        lastPrune = now
        let date = Date()
        let strikesBefore = date.addingTimeInterval(-rules.current.ruleSet.escalation.window)
        let postsBefore = date.addingTimeInterval(-rules.current.historyWindow(cap: configuration.historyWindow))
        queue.withAllBooks { $0.prune(strikesBefore: strikesBefore, postsBefore: postsBefore) }
    }

    // MARK: Reload

    private let reloadRequested = Locked<Bool>(false)
    private let reloadState = Locked<(running: Bool, again: Bool)>((false, false))

    /// Loads on a thread of its own: validating a rules directory runs every example and
    /// can take a second, during which posts must keep flowing on the rules in force.
    /// One reload at a time; a request during one runs once more after it.
    private func startReload() {
        let start = reloadState.withLock { state -> Bool in
            if state.running { state.again = true; return false }
            state.running = true
            return true
        }
        guard start else { return }
        let thread = Thread { [self] in
            reload()
            let again = reloadState.withLock { state -> Bool in
                state.running = false
                defer { state.again = false }
                return state.again
            }
            if again {
                reloadRequested.withLock { $0 = true }
                wake()
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
        let current = rules.current
        do {
            let ruleSet = try RuleLoader.load(directory: configuration.rulesDirectory, runExamples: true)
            if ruleSet.digest == current.loaded.digest {
                logger.info("rules unchanged", metadata: ["ruleset": "\(ruleSet.digest)"])
            } else {
                let demoted = shadowGuard?.withLock { $0.rulesLoaded(ruleSet) } ?? []
                rules.withLock { $0 = $0.with(loaded: ruleSet, demoted: demoted) }
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
        notifier.ready(status: statusLine())
    }

    // MARK: Shadow demotion

    /// Called by the committer with each batch, in order.
    private func watchForRunawayRules(_ judged: [JudgedPost]) {
        guard let shadowGuard else { return }
        var newlyDemoted: [String] = []
        let now = Date()
        shadowGuard.withLock { guardian in
            for post in judged { newlyDemoted += guardian.observe(enforcedRules: post.decision.rules, now: now) }
        }
        guard !newlyDemoted.isEmpty else { return }
        let demoted = shadowGuard.withLock { $0.demoted }
        rules.withLock { $0 = $0.with(loaded: $0.loaded, demoted: demoted) }
        for rule in newlyDemoted {
            metrics.shadowDemotions.increment()
            logger.error("rule demoted to shadow mode: it was changed in the last 24 h and acted on more than 5% of the last 1,000 posts; it is judged and logged but not enforced until a moderator runs `warden confirm \(rule)`",
                         metadata: ["rule": "\(rule)"])
        }
    }

    private func checkConfirmations() {
        guard let shadowGuard else { return }
        let lifted = shadowGuard.withLock { $0.checkConfirmations() }
        guard !lifted.isEmpty else { return }
        let demoted = shadowGuard.withLock { $0.demoted }
        rules.withLock { $0 = $0.with(loaded: $0.loaded, demoted: demoted) }
        logger.notice("rules confirmed by a moderator: enforced again", metadata: ["rules": "\(lifted.joined(separator: ","))"])
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

    private func installSignalHandlers() {
        signal(SIGPIPE, SIG_IGN)
        let signalQueue = DispatchQueue(label: "warden.signals")
        let registered = DispatchGroup()
        defer {
            // Dispatch registers signal sources on its own thread, later; until then SIGTERM
            // still has its default action and kills the process outright (17 of 30 times
            // when sent right after READY=1). Waiting here means READY=1 implies a clean stop.
            if registered.wait(timeout: .now() + 5) == .timedOut {
                logger.warning("signal handlers not registered after 5 s; SIGTERM may stop warden without finishing posts in flight")
            }
        }
        for (number, action) in [(SIGTERM, "stop"), (SIGINT, "stop"), (SIGHUP, "reload")] {
            // On Linux, Dispatch installs its own handler; SIG_IGN (needed on Darwin) would
            // make the kernel discard the signal before Dispatch sees it.
            let source = DispatchSource.makeSignalSource(signal: number, queue: signalQueue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if action == "stop" {
                    self.stop()
                } else {
                    self.reloadRequested.withLock { $0 = true }
                    self.wake()
                }
            }
            registered.enter()
            source.setRegistrationHandler { registered.leave() }
            source.resume()
            signalSources.append(source)
        }
    }

    private func statusLine(committer: Committer? = nil) -> String {
        let ruleset = rules.current.ruleSet.digest
        let short = ruleset.hasPrefix("sha256:") ? String(ruleset.prefix(19)) : ruleset
        guard let committer else { return "Ready; rules \(short)" }
        let totals = committer.totals.current
        return "Judged \(totals.judged) posts (\(totals.acted) acted on, \(totals.failed) failed); rules \(short); inbox \(pending.count)"
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

    public var description: String {
        switch self {
        case .rulesInvalid(let directory, let diagnostics):
            return "the rules in \(directory) do not validate, so warden cannot start (run `warden check \(directory)`):\n"
                + diagnostics.joined(separator: "\n")
        case .ledger(let path, let underlying):
            return "cannot open the strike ledger \(path): \(underlying); check that the state directory is writable by the warden user"
        }
    }
}
