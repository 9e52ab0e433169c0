import CFuzzerDriver
import Foundation
import WardenFuzzChecks

/// Compares the judge's spans with the pattern's own (`FuzzChecks.JudgeCheck`).
/// The property lives in Sources/WardenFuzzChecks, where FuzzRegressionTests replays the
/// kept corpus through it; this file only hands libFuzzer's input over and traps on a problem.
nonisolated(unsafe) private let check = FuzzChecks.JudgeCheck()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let problem = check.problem(bytes) { preconditionFailure(problem) }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
