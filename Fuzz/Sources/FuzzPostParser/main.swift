import CFuzzerDriver
import Foundation
import WardenFuzzChecks

/// Feeds raw bytes to the post reader (`FuzzChecks.postParserProblem`).
/// The property lives in Sources/WardenFuzzChecks, where FuzzRegressionTests replays the
/// kept corpus through it; this file only hands libFuzzer's input over and traps on a problem.

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let problem = FuzzChecks.postParserProblem(bytes) { preconditionFailure(problem) }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
