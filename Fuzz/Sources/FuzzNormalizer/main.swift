import CFuzzerDriver
import Foundation
import WardenCore

/// One long-lived normaliser, as a worker keeps one: stale scratch buffers or a wrong cache
/// entry from an earlier input would show up as a difference from a fresh normaliser.
nonisolated(unsafe) private var worker = Normalizer()
nonisolated(unsafe) private var reused = NormalizedText()

/// Normalises arbitrary valid UTF-8 and traps if the offset map could point outside the
/// poster's text: masking and action-file offsets are computed from it.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // Invalid UTF-8 is repaired rather than skipped: posts reach the normaliser as Strings.
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let scalarCount = text.unicodeScalars.count

    worker.normalize(text, into: &reused)
    var fresh = Normalizer()
    let once = fresh.normalize(text)
    precondition(reused.bytes == once.bytes, "a reused normaliser disagrees with a fresh one")
    precondition(reused.scalarStart == once.scalarStart && reused.scalarEnd == once.scalarEnd, "reused offsets differ")

    check(once, scalarCount: scalarCount)
    _ = Normalizer.normalizeEntry(text)
    return 0
}

private func check(_ normalized: NormalizedText, scalarCount: Int) {
    let n = normalized.bytes.count
    precondition(normalized.scalarStart.count == n && normalized.scalarEnd.count == n, "offset arrays and bytes differ in length")
    precondition(String(validating: normalized.bytes, as: UTF8.self) != nil, "output is not valid UTF-8")
    var previousStart: Int32 = 0
    var previousEnd: Int32 = 0
    for k in 0..<n {
        let start = normalized.scalarStart[k], end = normalized.scalarEnd[k]
        precondition(start >= 0 && Int(start) <= scalarCount, "start \(start) outside 0...\(scalarCount) at byte \(k)")
        precondition(end >= 0 && Int(end) <= scalarCount, "end \(end) outside 0...\(scalarCount) at byte \(k)")
        precondition(start <= end, "start \(start) after end \(end) at byte \(k)")
        precondition(start >= previousStart, "starts decrease at byte \(k)")
        // `originalRange(ofBytes:)` takes the last byte's end as the furthest; that needs this.
        precondition(end >= previousEnd, "ends decrease at byte \(k)")
        previousStart = start
        previousEnd = end
    }
    // Every byte range for short outputs; a deterministic sample of them for long ones.
    let step = max(1, n / 64)
    var lower = 0
    while lower <= n + 1 {
        var upper = lower
        while upper <= n + 1 {
            let range = normalized.originalRange(ofBytes: lower..<upper)
            precondition(range.lowerBound >= 0 && range.upperBound <= scalarCount, "range \(range) outside the text of \(scalarCount) scalars")
            upper += upper < lower + 4 ? 1 : step
        }
        lower += lower < 4 ? 1 : step
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
