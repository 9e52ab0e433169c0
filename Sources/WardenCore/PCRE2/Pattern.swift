import CPCRE2
import Foundation
import Logging

/// A PCRE2 pattern that did not compile, with the byte offset PCRE2 blamed.
public struct PatternError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Offset in the pattern's UTF-8 bytes where PCRE2 stopped.
    public var byteOffset: Int
    /// The same position in characters, for pointing at the pattern as a moderator wrote it.
    public var characterOffset: Int

    public var description: String { "\(message) (at character \(characterOffset + 1) of the pattern)" }
}

/// A compiled PCRE2 pattern, shared read-only by every worker.
///
/// Compiled with UTF and UCP (so `\b` and `\w` treat ü, ß and other non-ASCII letters as
/// word characters), caseless unless the rule asks otherwise, and JIT-compiled: with JIT a
/// 300-word prefix-tree pattern scans about 110 MB/s here against about 12 MB/s interpreted.
/// The code pointer is immutable after compilation, which PCRE2 documents as safe to share
/// between threads; match data is per worker (see `MatchScratch`).
public final class CompiledPattern: @unchecked Sendable {
    let code: OpaquePointer
    /// The pattern as compiled.
    public let source: String
    /// Whether JIT compilation succeeded; the interpreter is used otherwise.
    public let isJIT: Bool
    /// Whether the pattern ignores case.
    public let isCaseless: Bool
    /// Highest back-reference number: patterns with back-references cannot join a combined pattern.
    public let backReferenceMax: Int

    /// Compiles `pattern`. JIT failure (for example when writable+executable memory is
    /// refused by `MemoryDenyWriteExecute=yes`) is not an error: the pattern runs interpreted
    /// and a warning is logged once per pattern.
    public init(_ pattern: String, caseless: Bool = true, jit: Bool = true, logger: Logger? = nil) throws(PatternError) {
        var options: UInt32 = UInt32(PCRE2_UTF) | UInt32(PCRE2_UCP)
        if caseless { options |= UInt32(PCRE2_CASELESS) }
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let compiled: OpaquePointer? = pattern.withCString { cString in
            cString.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count + 1) { pointer in
                pcre2_compile_8(pointer, pattern.utf8.count, options, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            throw PatternError(
                message: Self.message(for: errorCode), byteOffset: errorOffset,
                characterOffset: Self.characterOffset(ofByte: errorOffset, in: pattern))
        }
        self.code = compiled
        self.source = pattern
        self.isCaseless = caseless
        // `jit: false` (MatchingOptions): for hosts where executable memory is forbidden and for parity tests.
        let jitResult = jit ? pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) : PCRE2_ERROR_JIT_BADOPTION
        self.isJIT = jitResult == 0
        if jitResult != 0 && jit {
            logger?.warning(
                "PCRE2 JIT unavailable, matching interpreted (slower)",
                metadata: ["reason": "\(Self.message(for: jitResult))", "pattern": "\(pattern.prefix(80))"])
        }
        var backrefMax: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_BACKREFMAX), &backrefMax)
        self.backReferenceMax = Int(backrefMax)
    }

    deinit { pcre2_code_free_8(code) }

    static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        guard length > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer[0..<Int(length)], as: UTF8.self)
    }

    static func characterOffset(ofByte byteOffset: Int, in pattern: String) -> Int {
        var characters = 0
        var bytes = 0
        for scalar in pattern.unicodeScalars {
            if bytes >= byteOffset { break }
            bytes += UTF8.width(scalar)
            characters += 1
        }
        return characters
    }
}

/// Bounds on one PCRE2 match, so that no pattern and no post can hang a worker.
///
/// The match limit is what a catastrophic pattern costs every post it gives up on, so it is
/// set from scripts/bench-redos.py (thread CPU time per post, JIT, 2-core Debian 12 box):
/// at 1,000,000 steps a post that hit it cost about 8 ms and p99.9 was 7.9 ms (max 10.2 ms)
/// with one catastrophic rule loaded, too close to the 10 ms target; at 200,000 p99.9 is
/// 2.5 ms with the same posts held. The shipped rules and heavier legitimate patterns
/// (bounded word windows, contact details) never reach even 10,000 steps on a
/// 20,000-character post, so 200,000 keeps 20x headroom. See docs/RELIABILITY.md, "ReDoS".
public struct MatchLimits: Sendable, Equatable {
    /// `pcre2_set_match_limit`: the number of internal match steps (JIT and interpreter).
    public var matchLimit: UInt32
    /// `pcre2_set_depth_limit`: backtracking depth (interpreter only).
    public var depthLimit: UInt32
    /// `pcre2_set_heap_limit`, in KiB (interpreter only).
    public var heapLimitKiB: UInt32

    public init(matchLimit: UInt32 = 200_000, depthLimit: UInt32 = 10_000, heapLimitKiB: UInt32 = 20_000) {
        self.matchLimit = matchLimit
        self.depthLimit = depthLimit
        self.heapLimitKiB = heapLimitKiB
    }
}

/// The outcome of one search.
public enum MatchOutcome: Equatable, Sendable {
    /// A match over these byte offsets of the subject.
    case found(Range<Int>)
    case notFound
    /// PCRE2 gave up: a match, depth, heap or JIT stack limit, described for the decision.
    case limitExceeded(String)
}

/// Per-worker PCRE2 state: match data, a match context carrying the limits, and a JIT stack.
///
/// PCRE2 match data is written by every match, so it is never shared; one `MatchScratch`
/// is reused for every match a worker makes, which keeps matching allocation-free.
public final class MatchScratch {
    private let matchData: OpaquePointer
    private let context: OpaquePointer
    private let jitStack: OpaquePointer?
    public let limits: MatchLimits

    public init(limits: MatchLimits = MatchLimits()) {
        // 16 pairs is plenty: only the whole match (pair 0) is read; a pattern with more
        // groups still matches, PCRE2 just reports the ovector as full.
        guard let data = pcre2_match_data_create_8(16, nil), let context = pcre2_match_context_create_8(nil) else {
            fatalError("PCRE2 could not allocate match data: out of memory")
        }
        self.matchData = data
        self.context = context
        self.limits = limits
        pcre2_set_match_limit_8(context, limits.matchLimit)
        pcre2_set_depth_limit_8(context, limits.depthLimit)
        pcre2_set_heap_limit_8(context, limits.heapLimitKiB)
        // The default 32 KiB JIT stack is too small for long posts with nested groups.
        self.jitStack = pcre2_jit_stack_create_8(32 * 1024, 1024 * 1024, nil)
        if let jitStack { pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack)) }
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }

    /// Finds the first match of `pattern` in `subject` at or after byte `start`.
    ///
    /// The subject must be valid UTF-8 (Swift strings and the normaliser's output are), so
    /// PCRE2's own UTF check, which would cost a pass over the text per pattern, is skipped.
    public func firstMatch(_ pattern: CompiledPattern, in subject: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> MatchOutcome {
        guard start <= subject.count else { return .notFound }
        let base = subject.baseAddress ?? UnsafePointer(bitPattern: 1)!
        let result = pcre2_match_8(pattern.code, base, subject.count, start, UInt32(PCRE2_NO_UTF_CHECK), matchData, context)
        if result >= 0 || result == 0 {
            let ovector = pcre2_get_ovector_pointer_8(matchData)!
            let lower = ovector[0], upper = ovector[1]
            // \K in a lookbehind can report an end before the start; treat it as empty.
            return .found(lower..<max(lower, upper))
        }
        switch result {
        case PCRE2_ERROR_NOMATCH, PCRE2_ERROR_PARTIAL:
            return .notFound
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT:
            return .limitExceeded(CompiledPattern.message(for: result))
        default:
            return .limitExceeded("PCRE2 error: \(CompiledPattern.message(for: result))")
        }
    }

    /// Calls `body` with every non-overlapping match in `subject` from `start`, until it returns false.
    /// Returns the limit message if PCRE2 gave up part-way.
    @discardableResult
    public func forEachMatch(
        _ pattern: CompiledPattern, in subject: UnsafeBufferPointer<UInt8>, from start: Int = 0,
        _ body: (Range<Int>) -> Bool
    ) -> String? {
        var offset = start
        while offset <= subject.count {
            switch firstMatch(pattern, in: subject, from: offset) {
            case .notFound:
                return nil
            case .limitExceeded(let why):
                return why
            case .found(let range):
                guard body(range) else { return nil }
                if range.upperBound > range.lowerBound {
                    offset = range.upperBound
                } else {
                    // An empty match: step one whole UTF-8 character to stay on a boundary.
                    offset = range.upperBound + 1
                    while offset < subject.count && subject[offset] & 0xC0 == 0x80 { offset += 1 }
                }
            }
        }
        return nil
    }
}
