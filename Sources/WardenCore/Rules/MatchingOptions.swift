import Logging

/// How a rule set's patterns are compiled and run, chosen by the caller (the CLI reads
/// `WARDEN_PCRE2_JIT` and `WARDEN_PLAN` into it; the core never reads the environment).
public struct MatchingOptions: Sendable {
    /// Compile patterns with PCRE2's JIT. Off for hosts where executable memory is
    /// forbidden (it would fail anyway, with a warning per pattern) and for parity tests.
    public var jit: Bool
    /// Pre-filter patterns by their required literals (`MatchPlan`). Off runs every pattern
    /// on every post: for measuring the gate against it.
    public var gatePatterns: Bool
    /// Where compilation problems that do not stop loading (JIT unavailable) are logged.
    public var logger: Logger?

    public init(jit: Bool = true, gatePatterns: Bool = true, logger: Logger? = nil) {
        self.jit = jit
        self.gatePatterns = gatePatterns
        self.logger = logger
    }
}
