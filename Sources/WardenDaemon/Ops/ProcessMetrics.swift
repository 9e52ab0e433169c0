import Foundation
import Glibc
import Prometheus

/// The standard `process_*` series of Prometheus client libraries, read from /proc/self
/// when /metrics is scraped: resident and virtual memory, CPU time, open and maximum file
/// descriptors, start time.
final class ProcessMetrics: Sendable {
    private let residentMemory: Gauge
    private let virtualMemory: Gauge
    private let openFDs: Gauge
    private let maxFDs: Gauge
    private let startTime: Gauge
    private let cpuSeconds: Counter
    private let threads: Gauge
    /// CPU seconds already added to the counter (it only goes up by increments).
    private let cpuCounted = Locked<Double>(0)

    init(registry: PrometheusCollectorRegistry) {
        residentMemory = registry.makeGauge(descriptor: Self.name("process_resident_memory_bytes", "Resident memory size in bytes."))
        virtualMemory = registry.makeGauge(descriptor: Self.name("process_virtual_memory_bytes", "Virtual memory size in bytes."))
        openFDs = registry.makeGauge(descriptor: Self.name("process_open_fds", "Number of open file descriptors."))
        maxFDs = registry.makeGauge(descriptor: Self.name("process_max_fds", "Maximum number of open file descriptors."))
        startTime = registry.makeGauge(descriptor: Self.name("process_start_time_seconds", "Start time of the process since unix epoch in seconds."))
        cpuSeconds = registry.makeCounter(descriptor: Self.name("process_cpu_seconds_total", "Total user and system CPU time spent in seconds."))
        threads = registry.makeGauge(descriptor: Self.name("process_threads", "Number of OS threads in the process."))
        update()
    }

    /// The full name as Prometheus clients write it (`process_…`), with no `warden_` prefix.
    private static func name(_ full: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: full, unitName: "", helpText: help)
    }

    func update() {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after "(comm)": state is field 3, so index i here is field i + 3.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
            if let utime = field(14), let stime = field(15) {
                let total = (utime + stime) / ticks
                let delta = cpuCounted.withLock { counted -> Double in
                    let delta = max(0, total - counted)
                    counted = max(counted, total)
                    return delta
                }
                if delta > 0 { cpuSeconds.increment(by: delta) }
            }
            if let count = field(20) { threads.set(to: count) }
            if let startTicks = field(22), let uptime = Self.bootTime() { startTime.set(to: uptime + startTicks / ticks) }
            if let vsize = field(23) { virtualMemory.set(to: vsize) }
            if let rss = field(24) { residentMemory.set(to: rss * pageSize) }
        }
        if let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") { openFDs.set(to: Double(names.count)) }
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFDs.set(to: Double(limit.rlim_cur)) }
    }

    /// The boot time in Unix seconds (`btime` in /proc/stat).
    private static func bootTime() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6))
        }
        return nil
    }
}
