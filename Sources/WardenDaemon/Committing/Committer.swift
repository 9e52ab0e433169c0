// Over 400 lines: the commit order (steps 1–6 below) and its three threads are one protocol, checked as a whole by `make chaos`.
import DequeModule
import Foundation
import WardenCore
import Glibc
import Logging

/// Makes batches of decisions durable, in an order that keeps the DESIGN.md invariant
/// true after a crash at any instant, with one flush per batch:
///
/// 1. ledger transaction (strikes, history, escalations);
/// 2. decisions.jsonl lines appended;
/// 3. action files and failed/*.error written to dot-named temporaries (by the workers);
/// 4. one `syncfs` flushes all of it, and also the previous batch's renames of step 6
///    and moves of step 5 (fallback without syncfs: one fsync per file and directory);
/// 5. the previous batch's posts are handed to the finishing thread, which renames them
///    from processing/ into done/ (or failed/): their action files are now durable;
/// 6. this batch's temporaries are renamed to their final names, not flushed: the next
///    batch's `syncfs` (step 4) does that, or, if no batch follows within a few
///    milliseconds, an fsync of outbox/ and failed/.
///
/// Steps 1–3 run on the committer thread, 4 and 6 on the sync stage's, 5 on the finishing
/// thread's, so that consecutive batches overlap.
///
/// The moves into done/ are never flushed on their own while batches keep coming: the
/// next `syncfs` covers them (it waits for the finishing thread to have made them). If one
/// is lost to a power cut, the post is still in processing/ and is judged again at
/// start-up, which is idempotent (ledger rows undone first, the same action file replaced
/// by rename). When the daemon goes idle the finishing
/// thread fsyncs done/ once, so an idle daemon leaves nothing to judge again.
/// Per batch that is one journal commit instead of three (syncfs, fsync(outbox/),
/// fsync(done/)); see docs/DAEMON.md, Benchmark.
///
/// A crash before step 5 leaves the post in processing/: it is judged again at start-up, its
/// ledger rows undone first, and its action file replaced by rename (never duplicated).
/// A failing step (disk full) is retried from that step with back-off; nothing is dropped.
final class Committer: @unchecked Sendable {
    /// The steps of the type's comment, by their numbers there. Step 5 (handing the previous
    /// batch to the finishing thread) happens inside `.sync`, right after the flush.
    enum CommitStep: Int, Comparable {
        case ledger = 1, decisionLog = 2, temporaries = 3, sync = 4, renames = 6, finished = 7

        static func < (a: CommitStep, b: CommitStep) -> Bool { a.rawValue < b.rawValue }
    }

    private let spool: Spool
    private let ledger: any LedgerStore
    /// The shared ledger's outage (nil on SQLite), set before `run`: the pardon poll fails
    /// twice a second while PostgreSQL is down, and is one party of the one outage rather
    /// than a log line each time. It also notices an outage when no post flows.
    var outage: LedgerOutage?
    private let log: DecisionLog
    private let outcomes: OutcomeQueue
    private let metrics: DaemonMetrics
    private let logger: Logger
    private let configuration: DaemonConfiguration
    /// Strike and history windows for pruning; confirmations of demoted rules are checked
    /// twice a second.
    private let rulebook: Rulebook
    /// Pardons go to the workers through it, on the pardoned author's shard.
    private let queue: AuthorOrderedQueue<WorkerJob>
    /// Told how many in-flight slots (posts, or files without posts) and files are finished.
    private let inFlight: InFlight

    private struct TrackedFile {
        var name: String
        var posts: Int
        var remaining: Int
        var rejectedLines: [RejectedLine]
        /// Posts of the file that held personal data, in file order: done/ keeps a masked copy.
        var masks: [(postID: String, spans: [Range<Int>])] = []
    }

    private var files: [Int: TrackedFile] = [:]
    /// Ids of recent posts that got an action file, so that an edit now allowed can take
    /// its stale action file away without a syscall for every allowed post. Bounded.
    private var actedIDs: Set<String> = []
    private var actedOrder = Deque<String>()
    private static let actedCapacity = 100_000

    private func rememberActed(_ postID: String) {
        guard actedIDs.insert(postID).inserted else { return }
        actedOrder.append(postID)
        if actedOrder.count > Self.actedCapacity, let oldest = actedOrder.popFirst() { actedIDs.remove(oldest) }
    }
    private var lastPardonID: Int64 = 0
    private var lastDataVersion: Int64 = -1
    private var lastPardonCheck: UInt64 = 0
    /// The outcome sequence up to which the ledger is committed (see `AuthorArchive`).
    let ledgerCommitted = Locked<UInt64>(0)
    /// Updated on every loop turn: the watchdog only pets systemd while this moves.
    let heartbeat = Locked<UInt64>(POSIX.monotonicNanoseconds())
    /// Totals for STATUS= lines and tests.
    let totals = Locked<(judged: Int, acted: Int, failed: Int)>((0, 0, 0))

    init(spool: Spool, ledger: any LedgerStore, log: DecisionLog, outcomes: OutcomeQueue, metrics: DaemonMetrics,
         logger: Logger, configuration: DaemonConfiguration, rulebook: Rulebook, queue: AuthorOrderedQueue<WorkerJob>,
         inFlight: InFlight) throws {
        self.spool = spool
        self.ledger = ledger
        self.log = log
        self.outcomes = outcomes
        self.metrics = metrics
        self.logger = logger
        self.configuration = configuration
        self.rulebook = rulebook
        self.queue = queue
        self.inFlight = inFlight
        lastPardonID = try ledger.lastPardonID()
        lastDataVersion = try ledger.dataVersion()
    }

    /// True while the committer is making progress (it turns at least twice a second when
    /// idle); false if a batch has been stuck for 30 s, e.g. on a full or wedged disk.
    var isHealthy: Bool { POSIX.monotonicNanoseconds() - heartbeat.current < 30_000_000_000 }

    /// Runs until the outcome queue is closed and drained.
    ///
    /// Three threads, each batch passing through them in order: this one (ledger and
    /// decisions.jsonl), the sync stage (`syncfs`, renames into outbox/) and the finishing
    /// thread (moves into done/). The next batch's ledger write overlaps this batch's
    /// `syncfs`: in a burst on ext4 the flush was ~75% of a batch's time and the ledger ~20%
    /// (trace step times, docs/DAEMON.md), and they were paid one after the other.
    func run() {
        let finished = DispatchSemaphore(value: 0)
        let finisher = Thread { [self] in
            POSIX.nameCurrentThread("warden-finish")
            finishingLoop()
            finished.signal()
        }
        finisher.name = "warden-finish"
        finisher.start()
        let synced = DispatchSemaphore(value: 0)
        let syncer = Thread { [self] in
            POSIX.nameCurrentThread("warden-sync")
            syncLoop()
            finishing.close()
            synced.signal()
        }
        syncer.name = "warden-sync"
        syncer.start()
        defer {
            syncStage.close()
            synced.wait()
            finished.wait()
        }
        var lastPrune = POSIX.monotonicNanoseconds()
        while true {
            // Take the next batch only once the sync stage has taken the previous one: then
            // it holds what arrived during a whole sync, and the ledger and the flush (both
            // costing per batch: SQLite writes each touched page once per transaction) are
            // paid once for many posts in a burst, while a lone post still goes at once.
            syncSlot.wait()
            guard let (batch, through) = outcomes.takeBatch(max: configuration.maxBatch, timeout: 0.5) else {
                syncSlot.signal()
                break
            }
            heartbeat.withLock { $0 = POSIX.monotonicNanoseconds() }
            if batch.isEmpty {
                syncSlot.signal()
            } else {
                commit(batch, through: through)
            }
            let now = POSIX.monotonicNanoseconds()
            if now - lastPardonCheck > 500_000_000 {
                lastPardonCheck = now
                checkForPardons()
                rulebook.checkConfirmations(outage: outage)
            }
            if now - lastPrune >= UInt64(configuration.pruneInterval * 1e9) {
                lastPrune = now
                prune()
            }
        }
    }

    /// A batch written to the ledger and decisions.jsonl, on its way to the sync stage.
    private struct Prepared: @unchecked Sendable {
        var batch: Batch
        var released: Int
        var started: UInt64
        var step: CommitStep
    }

    private let syncStage = BlockingQueue<Prepared>()
    /// Taken by the committer before it takes a batch from the outcome queue, given back
    /// when the sync stage takes that batch: one batch is prepared while another syncs.
    private let syncSlot = DispatchSemaphore(value: 1)

    /// The sync stage: steps 3–4 of each batch, in order, and the flush of the last batch's
    /// renames when no batch follows within 3 ms.
    private func syncLoop() {
        // A batch whose action files are renamed into outbox/ but not yet flushed (step 6
        // of the type's comment): the next batch's syncfs flushes them, else a directory fsync.
        var unflushed: Finishing?
        while true {
            switch syncStage.take(timeout: unflushed == nil ? nil : 0.003) {
            case .item(var prepared):
                syncSlot.signal()
                var step = prepared.step
                retrying { try perform(&prepared.batch, from: &step, through: 0, stopBefore: .finished, afterSync: {
                    // This batch's syncfs made the previous batch's renames durable: its posts
                    // may move into done/. FIFO, so done/ only ever holds a prefix of what was
                    // committed.
                    if let done = unflushed {
                        unflushed = nil
                        hand(done)
                    }
                }) }
                unflushed = Finishing(batch: prepared.batch, released: prepared.released, started: prepared.started)
            case .timedOut:
                if let pending = unflushed {
                    unflushed = nil
                    flushAndHand(pending)
                }
            case .closed:
                if let pending = unflushed { flushAndHand(pending) }
                return
            }
        }
    }

    // MARK: One batch

    private struct Batch {
        var operations: [LedgerOperation] = []
        var logLines: [[UInt8]] = []
        /// `bytes` nil: a worker already wrote the temporary file.
        var actionFiles: [(name: String, temporary: String, bytes: [UInt8]?)] = []
        var staleActionFiles: [String] = []
        var failedFiles: [(name: String, error: [UInt8], moveFromProcessing: Bool, bytes: [UInt8]?)] = []
        var finishedFiles: [String] = []
        /// Files with personal data whose masked copy is written in step 3 (to done/ under a
        /// dot-name) and published over the moved original in step 5.
        var maskedCopies: [(name: String, masks: [(postID: String, spans: [Range<Int>])])] = []
        var finishedMasked: Set<String> = []
        var judged: [JudgedPost] = []
        var failures: [String] = []
    }

    private func commit(_ outcomes: [Outcome], through sequence: UInt64) {
        let started = POSIX.monotonicNanoseconds()
        var batch = Batch()
        var released = 0
        for outcome in outcomes {
            switch outcome {
            case .claimed(let fileID, let name, let posts, let rejectedLines):
                files[fileID] = TrackedFile(name: name, posts: posts, remaining: posts, rejectedLines: rejectedLines)
                if posts == 0 {
                    released += 1
                    completeFile(fileID, into: &batch)
                }
            case .rejected(let name, let rejection):
                batch.failedFiles.append((name, Array("\(rejection.reason)\n".utf8), true, nil))
                batch.failures.append(rejection.category)
                released += 1
            case .judged(let judged):
                batch.judged.append(judged)
                if judged.decision.appealOf == nil && !judged.changeWritten { batch.operations.append(.judged(judged.change)) }
                batch.logLines.append(judged.decision.logLineJSON())
                let postID = judged.decision.postID
                let actionName = postID + ".json"
                // An edit judged in the same batch as the version it replaces must leave one
                // action file, the latest (each version has its own temporary).
                if judged.decision.needsActionFile {
                    let temporary = judged.temporaryName ?? ".\(postID).json.tmp"
                    batch.actionFiles.append((actionName, temporary, judged.temporaryWritten ? nil : judged.decision.actionFileJSON()))
                    // Renamed in order, the latest version wins; an earlier allowed version's
                    // unlink (done after the renames) must not take this file away.
                    batch.staleActionFiles.removeAll { $0 == actionName }
                    rememberActed(postID)
                } else if judged.isEdit || actedIDs.contains(postID) {
                    batch.staleActionFiles.append(actionName)
                    actedIDs.remove(postID)
                }
                released += 1
                if var file = files[judged.fileID] {
                    if !judged.decision.personalData.isEmpty { file.masks.append((postID, judged.decision.personalData)) }
                    file.remaining -= 1
                    files[judged.fileID] = file
                    if file.remaining == 0 { completeFile(judged.fileID, into: &batch) }
                }
            case .pardon(let pardon):
                batch.operations.append(.pardon(pardon))
            }
        }
        var step = CommitStep.ledger
        retrying { try perform(&batch, from: &step, through: sequence, stopBefore: .sync, afterSync: {}) }
        syncStage.push(Prepared(batch: batch, released: released, started: started, step: step))
    }

    private struct Finishing: @unchecked Sendable {
        var batch: Batch
        var released: Int
        var started: UInt64
    }

    private let finishing = BlockingQueue<Finishing>()

    /// Flushes one batch's renames into outbox/ and failed/ with directory fsyncs (no batch
    /// followed to do it with its syncfs), then hands its posts to the finishing thread.
    private func flushAndHand(_ item: Finishing) {
        if configuration.durable {
            let batch = item.batch
            retrying {
                if !batch.actionFiles.isEmpty || !batch.staleActionFiles.isEmpty { try spool.syncDirectory(.outbox) }
                if !batch.failedFiles.isEmpty { try spool.syncDirectory(.failed) }
            }
        }
        hand(item)
    }

    /// Batches handed to the finishing thread, and how many it has moved into done/.
    private let handOver = NSCondition()
    private var handed = 0
    private var moved = 0

    private func hand(_ item: Finishing) {
        handOver.lock()
        handed += 1
        handOver.unlock()
        finishing.push(item)
    }

    /// Waits until every batch handed over is moved into done/, so that the coming syncfs
    /// covers those moves before the next batch's posts are handed over: done/ then only
    /// ever holds a prefix of what was claimed, also after a power cut (recovery relies on
    /// it; see `completeFile(_:into:)`), without relying on the filesystem's journal order.
    private func waitForFinisher() {
        handOver.lock()
        while moved < handed { handOver.wait() }
        handOver.unlock()
    }

    /// How many `syncfs` calls the committer has started and finished: a move into done/
    /// is durable once a syncfs that started after it has finished.
    private let syncs = Locked<(started: UInt64, finished: UInt64)>((0, 0))

    /// Runs on its own thread until the committer closes the hand-over queue.
    private func finishingLoop() {
        // Moves into done/ (and failed/) not yet known to be durable: the sync count that
        // covers them, and which directories to fsync if no syncfs comes.
        var uncovered: (needs: UInt64, done: Bool, failed: Bool)?
        while true {
            let next = finishing.take(timeout: uncovered == nil ? nil : 0.05)
            if case .item(let item) = next {
                let batch = item.batch
                retrying { try moveFinished(batch) }
                let needs = syncs.withLock { $0.started } + 1
                let movedFailed = batch.failedFiles.contains(where: \.moveFromProcessing)
                uncovered = (needs, (uncovered?.done ?? false) || !batch.finishedFiles.isEmpty, (uncovered?.failed ?? false) || movedFailed)
                handOver.lock()
                moved += 1
                handOver.broadcast()
                handOver.unlock()
                account(batch)
                metrics.commitLatency.recordNanoseconds(Int64(POSIX.monotonicNanoseconds() - item.started))
                inFlight.finished(released: item.released, files: batch.finishedFiles.count + batch.failedFiles.filter(\.moveFromProcessing).count)
                continue
            }
            // Idle for 50 ms, or closing: unless a later syncfs already covered the moves,
            // fsync the directories once, so an idle daemon leaves nothing to judge again.
            if let pending = uncovered, configuration.durable, syncs.withLock({ $0.finished }) < pending.needs {
                retrying {
                    if pending.done { try spool.syncDirectory(.done) }
                    if pending.failed { try spool.syncDirectory(.failed) }
                }
            }
            uncovered = nil
            if case .closed = next { return }
        }
    }

    /// Retries a durable step with back-off until it succeeds (`Retry`): posts wait in
    /// processing/, nothing is dropped or failed for it.
    private func retrying(_ body: () throws -> Void) {
        Retry(logger: logger, message: "cannot make a batch durable; posts stay in processing/ and the batch is retried",
              onRetry: { [heartbeat] in heartbeat.withLock { $0 = POSIX.monotonicNanoseconds() } }).untilSuccess(body)
    }

    /// A file whose posts are all judged: to done/, and its bad lines (if any) to failed/.
    private func completeFile(_ fileID: Int, into batch: inout Batch) {
        guard let file = files.removeValue(forKey: fileID) else { return }
        if file.posts == 0 {
            let reasons = file.rejectedLines.map { "line \($0.line): \($0.reason)" }.joined(separator: "\n")
            batch.failedFiles.append((file.name, Array((reasons.isEmpty ? "no posts in the file" : reasons).utf8) + [10], true, nil))
            batch.failures.append(file.rejectedLines.isEmpty ? "empty" : "invalid_post")
            releaseInClaimOrder(fileID, moving: nil, into: &batch)
            return
        }
        for line in file.rejectedLines {
            batch.failedFiles.append(("\(file.name).line-\(line.line)", Array("line \(line.line) of \(file.name): \(line.reason)\n".utf8), false, line.bytes))
            batch.failures.append("invalid_post")
        }
        if !file.masks.isEmpty {
            batch.maskedCopies.append((file.name, file.masks))
            maskedWaiting.insert(file.name)
        }
        // Into done/ in claim order, so that done/ always holds a prefix of what was claimed.
        // A .jsonl file finishes when its last post is judged, possibly after files claimed
        // later; had those reached done/ first, recovery would judge its posts again on top of
        // what the later posts (an edit, say) already changed in the ledger.
        releaseInClaimOrder(fileID, moving: file.name, into: &batch)
    }

    private func releaseInClaimOrder(_ fileID: Int, moving name: String?, into batch: inout Batch) {
        finishedAhead[fileID] = .some(name)
        while let next = finishedAhead.removeValue(forKey: lastMovedFileID + 1) {
            lastMovedFileID += 1
            if let next {
                batch.finishedFiles.append(next)
                if maskedWaiting.remove(next) != nil { batch.finishedMasked.insert(next) }
            }
        }
    }

    /// Finished files waiting for an earlier-claimed file to finish (see `finish`); nil for
    /// a file with no posts, which went to failed/ and only holds its place in the order.
    private var finishedAhead: [Int: String?] = [:]
    /// Files whose masked copy is written and whose move into done/ is still to come.
    private var maskedWaiting: Set<String> = []
    /// Every file id up to this one has been handed to a batch. Ids are dense, from 1, in
    /// claim order (the dispatcher numbers each parsed file).
    private var lastMovedFileID = 0

    /// The steps, resumable: `step` records how far a failed attempt got.
    /// `stopBefore`: the committer thread runs steps 1–3, the sync stage 4–6.
    private func perform(_ batch: inout Batch, from step: inout CommitStep, through sequence: UInt64, stopBefore: CommitStep,
                         afterSync: () -> Void) throws {
        // Trace-level step times ("ledger=… log=…"), the figures docs/DAEMON.md quotes.
        var laps: [String] = []
        var lapStart = POSIX.monotonicNanoseconds()
        func lap(_ name: String) {
            guard logger.logLevel <= .trace else { return }
            let now = POSIX.monotonicNanoseconds()
            laps.append(name + "=" + String(format: "%.2f", Double(now - lapStart) / 1e6))
            lapStart = now
        }
        defer {
            if !laps.isEmpty {
                logger.trace("batch step times (ms)", metadata: ["posts": "\(batch.judged.count)", "ms": "\(laps.joined(separator: " "))"])
            }
        }
        if step == .ledger {
            try ledger.commit(batch.operations)
            // Authors whose changes are all in this batch or earlier may now leave memory.
            ledgerCommitted.withLock { $0 = max($0, sequence) }
            step = .decisionLog
            lap("ledger")
        }
        if step == .decisionLog {
            try log.append(batch.logLines)
            step = .temporaries
            lap("log")
        }
        if step == .temporaries {
            for file in batch.actionFiles {
                if let bytes = file.bytes {
                    try spool.writeActionTemporary(file.temporary, bytes: bytes)
                }
            }
            for file in batch.failedFiles {
                try spool.writeFailureTemporaries(file.name, error: file.error, copy: file.bytes)
            }
            for copy in batch.maskedCopies {
                if let bytes = maskedCopy(of: copy.name, masks: copy.masks) { try spool.writeMaskedCopy(copy.name, bytes: bytes) }
            }
            step = .sync
            lap("temporaries")
        }
        if stopBefore <= .sync { return }
        if step == .sync {
            if configuration.durable {
                waitForFinisher()
                syncs.withLock { $0.started += 1 }
                if try !spool.syncFilesystem() {
                    for file in batch.actionFiles { try spool.syncActionTemporary(file.temporary) }
                    for file in batch.failedFiles { try spool.syncFailureTemporary(file.name) }
                    for copy in batch.maskedCopies { try spool.syncMaskedCopy(copy.name) }
                    try log.sync()
                    // What syncfs would have covered: the previous batch's renames and moves.
                    try spool.syncDirectory(.outbox)
                    try spool.syncDirectory(.failed)
                    try spool.syncDirectory(.done)
                }
                syncs.withLock { $0.finished = $0.started }
            }
            afterSync()  // step 5: the previous batch's posts to the finishing thread
            step = .renames
            lap("sync")
        }
        if step == .renames {
            for file in batch.actionFiles { try spool.publishActionFile(file.temporary, as: file.name) }
            for name in batch.staleActionFiles where spool.withdrawActionFile(name) {
                logger.debug("edited post is now allowed: removed its earlier action file", metadata: ["file": "outbox/\(name)"])
            }
            for file in batch.failedFiles { try spool.publishFailure(file.name, hasCopy: file.bytes != nil) }
            // Not flushed here: the next batch's syncfs does it, before these posts move
            // into done/ (or `flushAndHand`, if no batch follows).
            step = .finished
            lap("renames")
        }
    }

    /// processing/ → done/ (or failed/), after the batch's action files are durable.
    /// Not flushed here (see the type's comment): a later syncfs, or the finishing thread
    /// when idle. No fsync of processing/ either: a rename is one journal transaction on
    /// ext4 and XFS, made durable with the directory it went into.
    private func moveFinished(_ batch: Batch) throws(SystemError) {
        for file in batch.failedFiles where file.moveFromProcessing { try spool.fail(file.name) }
        for name in batch.finishedFiles {
            let target = try spool.finish(name)
            if batch.finishedMasked.contains(name) { try spool.publishMaskedCopy(name, over: target) }
        }
    }

    /// The post file with every post that held personal data rewritten with its text
    /// masked (`PersonalData.maskedPostJSON`); other lines of a batch file stay byte for
    /// byte. Nil if the file cannot be read again: the original is kept, and the log says so.
    private func maskedCopy(of name: String, masks: [(postID: String, spans: [Range<Int>])]) -> [UInt8]? {
        guard case .success(let (bytes, _)) = spool.read(name, maxBytes: Int.max) else {
            logger.warning("cannot read a post again to mask its personal data; done/ keeps it unmasked", metadata: ["file": "processing/\(name)"])
            return nil
        }
        var pending = masks
        func masked(_ line: [UInt8]) -> [UInt8]? {
            guard let post = try? PostParser.parse(line, limits: configuration.limits),
                  let index = pending.firstIndex(where: { $0.postID == post.id }) else { return nil }
            let spans = pending.remove(at: index).spans
            return PersonalData.maskedPostJSON(post, spans: spans)
        }
        guard name.hasSuffix(".jsonl") else { return masked(bytes).map { $0 + [0x0A] } ?? bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            var content = Array(line)
            if content.last == 0x0D { content.removeLast() }
            out += masked(content) ?? Array(line)
            if index < lines.count - 1 { out.append(0x0A) }
        }
        return out
    }

    private func account(_ batch: Batch) {
        var acted = 0
        for judged in batch.judged {
            let decision = judged.decision
            metrics.judged(decision.action)
            for rule in decision.rules { metrics.ruleHit(rule) }
            if !decision.strikeGuidelines.isEmpty { metrics.strikes.increment(by: Int64(decision.strikeGuidelines.count)) }
            if let escalation = judged.change.escalation {
                metrics.escalation(escalation)
                logger.notice("author escalated", metadata: [
                    "author": "\(decision.authorID)", "escalation": "\(escalation.rawValue)",
                    "strikes": "\(decision.authorStrikes ?? 0)", "post": "\(decision.postID)",
                ])
            }
            if decision.needsActionFile {
                acted += 1
                // Debug, not info: one line per acted-on post passes journald's rate limit at
                // benchmark rates, and decisions.jsonl already has every decision.
                logger.debug("post acted on", metadata: [
                    "post": "\(decision.postID)", "action": "\(decision.action.rawValue)",
                    "guidelines": "\(decision.guidelines.joined(separator: ","))", "rules": "\(decision.rules.joined(separator: ","))",
                ])
            } else {
                logger.debug("post allowed", metadata: ["post": "\(decision.postID)"])
            }
        }
        for (file, category) in zip(batch.failedFiles, batch.failures) {
            metrics.failure(category)
            logger.warning("post file failed", metadata: ["file": "failed/\(file.name)", "reason": "\(String(decoding: file.error, as: UTF8.self).trimmingCharacters(in: .newlines))"])
        }
        let failedCount = batch.failedFiles.count
        totals.withLock { $0.judged += batch.judged.count; $0.acted += acted; $0.failed += failedCount }
    }

    // MARK: Pardons and pruning

    private func checkForPardons() {
        do {
            let version = try ledger.dataVersion()
            outage?.succeeded("committer")
            guard version != lastDataVersion else { return }
            lastDataVersion = version
            let pardons = try ledger.pardons(after: lastPardonID)
            guard let last = pardons.last else { return }
            lastPardonID = last.id
            for pardon in pardons {
                logger.notice("pardon applied", metadata: ["author": "\(pardon.author)", "guideline": "\(pardon.guideline ?? "all")"])
            }
            // A shared ledger's pardons are already in force: every post reads its author
            // afresh under the author's lock. Applying them again in order with the batch
            // would also forgive strikes of posts judged after the pardon.
            guard ledger.sharedAuthors == nil else { return }
            for pardon in pardons { queue.push(.pardon(pardon), shard: queue.shard(of: pardon.author)) }
        } catch {
            if let outage {
                outage.failed("committer", error: error)
                return
            }
            logger.error("cannot read pardons from the ledger", metadata: ["error": "\(error)", "ledger": "\(ledger.location)"])
        }
    }

    private func prune() {
        do {
            let now = Date()
            try ledger.prune(strikesBefore: now.addingTimeInterval(-rulebook.strikeWindow), postsBefore: now.addingTimeInterval(-rulebook.historyWindow))
        } catch {
            logger.warning("cannot prune the ledger", metadata: ["error": "\(error)"])
        }
    }
}
