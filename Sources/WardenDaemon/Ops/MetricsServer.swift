import Dispatch
import Foundation
import WardenCore
import Hummingbird
import Logging

/// Serves /metrics (Prometheus text format) and /healthz on the opt-in `--metrics` address.
/// Hummingbird rather than a hand-written HTTP server: scrapers and load balancers send
/// real-world HTTP (keep-alive, pipelining, odd headers) that a toy parser gets wrong.
public enum MetricsServer {
    /// Parses `HOST:PORT` (or `[v6]:PORT`).
    public static func parse(address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65_535).contains(port) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// Starts the server on a task and waits until it listens, so that an address that
    /// cannot be bound (in use, not local) is a start-up error, before READY=1, rather
    /// than a log line after it. Cancel the task to stop the server.
    static func start(address: String, metrics: DaemonMetrics, logger: Logger,
                      healthy: @escaping @Sendable () -> Bool) throws(DaemonError) -> Task<Void, Never> {
        let outcome = Locked<Result<Void, any Error>?>(nil)
        let settled = DispatchSemaphore(value: 0)
        let task = Task.detached {
            do {
                try await run(address: address, metrics: metrics, logger: logger, healthy: healthy) {
                    outcome.withLock { $0 = .success(()) }
                    settled.signal()
                }
            } catch is CancellationError {
            } catch {
                let first = outcome.withLock { state -> Bool in
                    guard state == nil else { return false }
                    state = .failure(error)
                    return true
                }
                if first {
                    settled.signal()
                } else {
                    logger.error("metrics server stopped", metadata: ["address": "\(address)", "error": "\(error)"])
                }
            }
        }
        if settled.wait(timeout: .now() + 30) == .timedOut {
            task.cancel()
            throw DaemonError.metrics(address: address, underlying: "not listening after 30 s")
        }
        if case .failure(let error) = outcome.current {
            throw DaemonError.metrics(address: address, underlying: "\(error)")
        }
        return task
    }

    /// Runs the server until the task is cancelled.
    /// - Parameter healthy: whether the pipeline is making progress, for /healthz.
    public static func run(address: String, metrics: DaemonMetrics, logger: Logger,
                           healthy: @escaping @Sendable () -> Bool,
                           listening: @escaping @Sendable () -> Void = {}) async throws {
        guard let (host, port) = parse(address: address) else {
            throw ConfigurationError(file: "--metrics", message: "\"\(address)\" is not HOST:PORT (e.g. 127.0.0.1:9464)")
        }
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            metrics.updateProcessMetrics()
            let text = metrics.registry.emitToString()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("healthz") { _, _ -> Response in
            let ok = healthy()
            return Response(status: ok ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: ok ? "ok\n" : "stalled: batches are not being committed, or the shared ledger is unreachable (see the log)\n")))
        }
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .notice)
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                              onServerRunning: { _ in
                                  logger.notice("serving metrics", metadata: ["address": "http://\(host):\(port)/metrics"])
                                  listening()
                              },
                              logger: serverLogger)
        try await app.run()
    }
}
