import Foundation
import WardenCore

// redos-bench --rules DIR [--match-limit N] [--depth-limit N] [--heap-limit-kib N] [--rounds N] POSTS.jsonl
//
// Judges every post of a JSON Lines file with one `Judge`, as one daemon worker would, and
// times each `judge` call with ContinuousClock. Prints one JSON object: percentiles of the
// per-post time over all posts and separately over posts whose id starts with "attack-" and
// the others, and how many posts were held. `warden scan` has no per-post timer, and adding
// one to the CLI for a benchmark was not wanted; this measures the same call scan makes.
//
// Each post is also timed in this thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared
// machine the wall-clock tail is mostly time the thread spent descheduled, which says more
// about the neighbours than about Warden; the CPU-time tail is what the PCRE2 limits bound.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("redos-bench: \(message)\n".utf8))
    exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
var rulesDirectory: String?
var postsFile: String?
var limits = MatchLimits()
var rounds = 1
while let argument = arguments.popFirst() {
    func value() -> String {
        guard let next = arguments.popFirst() else { fail("\(argument) needs a value") }
        return next
    }
    func number() -> UInt32 {
        guard let parsed = UInt32(value()) else { fail("\(argument) needs a whole number") }
        return parsed
    }
    switch argument {
    case "--rules": rulesDirectory = value()
    case "--match-limit": limits.matchLimit = number()
    case "--depth-limit": limits.depthLimit = number()
    case "--heap-limit-kib": limits.heapLimitKiB = number()
    case "--rounds": rounds = Int(number())
    default:
        guard postsFile == nil, !argument.hasPrefix("-") else { fail("unknown argument \(argument)") }
        postsFile = argument
    }
}
guard let rulesDirectory, let postsFile else { fail("usage: redos-bench --rules DIR [--match-limit N] [--rounds N] POSTS.jsonl") }

let ruleSet: RuleSet
do { ruleSet = try RuleLoader.load(directory: rulesDirectory, runExamples: false) } catch { fail("\(error)") }
guard let data = FileManager.default.contents(atPath: postsFile) else { fail("cannot read \(postsFile)") }
var posts: [Post] = []
for case .success(let post) in PostParser.parseLines(Array(data)) { posts.append(post) }

let judge = Judge(ruleSet: ruleSet, limits: limits)
let clock = ContinuousClock()
let now = Date()
// Warm up the JIT stack, the normaliser's caches and buffers, as a running worker has them.
for post in posts.prefix(200) { _ = judge.judge(post, now: now) }

func threadCPUMicros() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) * 1e6 + Double(spec.tv_nsec) / 1e3
}

var attackTimes: [Double] = [], normalTimes: [Double] = [], cpuTimes: [Double] = []
var heldAttack = 0, heldNormal = 0, limitHits = 0
for _ in 0..<rounds {
    for post in posts {
        let cpuStarted = threadCPUMicros()
        let started = clock.now
        let decision = judge.judge(post, now: now)
        let elapsed = clock.now - started
        cpuTimes.append(threadCPUMicros() - cpuStarted)
        let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        let isAttack = post.id.hasPrefix("attack-")
        if isAttack { attackTimes.append(micros) } else { normalTimes.append(micros) }
        if decision.action == .hold { if isAttack { heldAttack += 1 } else { heldNormal += 1 } }
        if !decision.limitReasons.isEmpty { limitHits += 1 }
    }
}

func percentiles(_ values: [Double]) -> [String: Double] {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return [:] }
    func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1)] }
    return ["p50_us": at(0.5), "p99_us": at(0.99), "p999_us": at(0.999), "max_us": sorted[sorted.count - 1], "count": Double(sorted.count)]
}

let report: [String: Any] = [
    "limits": ["match": limits.matchLimit, "depth": limits.depthLimit, "heap_kib": limits.heapLimitKiB],
    "rounds": rounds,
    "all": percentiles(attackTimes + normalTimes),
    "all_cpu": percentiles(cpuTimes),
    "attack": percentiles(attackTimes),
    "normal": percentiles(normalTimes),
    "held_attack": heldAttack / rounds,
    "held_normal": heldNormal / rounds,
    "limit_hits": limitHits / rounds,
    "jit": ruleSet.rules.flatMap(\.patterns).allSatisfy(\.pattern.isJIT),
]
do {
    let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    FileHandle.standardOutput.write(json + Data("\n".utf8))
} catch {
    fail("\(error)")
}
