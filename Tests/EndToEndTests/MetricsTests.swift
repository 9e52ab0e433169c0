import Foundation
import Glibc
import Testing

/// What an alerting rule needs from /metrics: every series that can be known in advance
/// exists from start-up at 0 (an `increase()` alert sees the first refusal), the reload
/// outcome and time, spool depths, the standard process metrics; and a metrics address that
/// cannot be bound stops start-up before READY=1 instead of being a log line after it.
@Suite(.serialized) struct MetricsTests {
    @Test func seriesKnownInAdvanceStartAtZero() throws {
        let daemon = try DaemonUnderTest()
        try daemon.start(["--metrics", "127.0.0.1:\(daemon.metricsPort)"])
        let metrics = daemon.httpGet("/metrics") ?? ""
        for series in [
            #"warden_reloads_total{result="refused"} 0"#, #"warden_reloads_total{result="ok"} 0"#,
            #"warden_failures_total{reason="too_large"} 0"#, #"warden_failures_total{reason="invalid_post"} 0"#,
            #"warden_escalations_total{action="block_author"} 0"#, #"warden_rule_hits_total{rule="profanity.strong"} 0"#,
            "warden_last_reload_success 1", "warden_inbox_files 0", "warden_outbox_files 0",
        ] {
            #expect(metrics.contains(series), "missing \(series) in:\n\(metrics)")
        }
        for name in ["warden_rules_loaded_timestamp_seconds", "process_resident_memory_bytes", "process_open_fds",
                     "process_max_fds", "process_cpu_seconds_total", "process_start_time_seconds"] {
            #expect(metrics.contains("\n\(name) "), "missing \(name)")
        }

        try "guideline: broken\nrules: [\n".write(toFile: daemon.rules + "/broken.yaml", atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.eventually { daemon.log.contains("rules change refused") })
        let after = daemon.httpGet("/metrics") ?? ""
        #expect(after.contains(#"warden_reloads_total{result="refused"} 1"#), "\(after)")
        #expect(after.contains("warden_last_reload_success 0"))
        #expect(daemon.stop() == 0)
    }

    @Test func aMetricsPortInUseIsAStartUpError() throws {
        let daemon = try DaemonUnderTest()
        // Hold the port, as another service would.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(daemon.metricsPort).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 1) == 0)
        try daemon.start(["--metrics", "127.0.0.1:\(daemon.metricsPort)"], waitForReady: false)
        let exited = daemon.eventually(timeout: 30) { !daemon.isRunning }
        #expect(exited, "warden kept running with its metrics port taken")
        #expect(daemon.stop() != 0)
        daemon.notify.drain()
        #expect(!daemon.notify.messages.contains { $0.contains("READY=1") }, "READY=1 must not be sent")
        #expect(daemon.log.contains("cannot serve metrics on 127.0.0.1:\(daemon.metricsPort)"), "log:\n\(daemon.log)")
    }
}
