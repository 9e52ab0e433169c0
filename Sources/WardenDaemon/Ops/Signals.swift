import Dispatch
import Glibc
import Logging
import UnixSignals

/// SIGTERM and SIGINT stop the daemon after the posts in flight; SIGHUP reloads the rules.
///
/// Through swift-service-lifecycle's `UnixSignalsSequence`, which waits until the kernel
/// will deliver the signals to it before returning: until then SIGTERM keeps its default
/// action and kills the process outright (17 of 30 times when sent right after READY=1 with
/// unregistered Dispatch sources), so `install` returns only once that wait is over and
/// READY=1 implies a clean stop. The daemon's main loop is a thread, not a `ServiceGroup`
/// (see `Daemon`), so the sequence is read by one small task that forwards to it.
enum Signals {
    /// Returns the task reading the signals; cancel it at shutdown.
    static func install(control: MainLoopControl, logger: Logger) -> Task<Void, Never> {
        signal(SIGPIPE, SIG_IGN)
        let registered = DispatchSemaphore(value: 0)
        let task = Task.detached {
            let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
            registered.signal()
            for await received in signals {
                if received == .sighup {
                    control.requestReload()
                } else {
                    control.requestStop()
                }
            }
        }
        if registered.wait(timeout: .now() + 5) == .timedOut {
            logger.warning("signal handlers not registered after 5 s; SIGTERM may stop warden without finishing posts in flight")
        }
        return task
    }
}
