import CFuzzerDriver
import Foundation
import WardenFuzzChecks

/// Normalises arbitrary bytes with a long-lived normaliser (`FuzzChecks.NormalizerCheck`).
/// The property lives in Sources/WardenFuzzChecks, where FuzzRegressionTests replays the
/// kept corpus through it; this file only hands libFuzzer's input over and traps on a problem.
nonisolated(unsafe) private var check = FuzzChecks.NormalizerCheck()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let problem = check.problem(bytes) { preconditionFailure(problem) }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
