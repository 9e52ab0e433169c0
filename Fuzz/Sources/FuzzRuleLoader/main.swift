import CFuzzerDriver
import Foundation
import WardenCore

/// A rules directory made once per process; each input rewrites the files in it.
private let directory: String = {
    let path = NSTemporaryDirectory() + "warden-fuzz-rules-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path + "/wordlists", withIntermediateDirectories: true)
    // The word list the seed guideline (Tests/Fixtures/rules-basic/profanity.yaml) names.
    let strong = "# strong words\nfuck*\nshit*\nwanker\ncock*\nass\nf*ck\nf**k"
    FileManager.default.createFile(atPath: path + "/wordlists/strong.txt", contents: Data(strong.utf8))
    return path
}()

/// Files an input may carry after the first, each after a line `#--- NAME` (a YAML comment,
/// so the first file stays valid YAML whatever follows).
private let extraFiles: Set<String> = ["escalation.yaml", "second.yaml", "wordlists/extra.txt"]

/// Loads the fuzz input as a guideline file, running its examples: loading must return a
/// rule set or throw `RuleLoadError` (the typed throw guarantees which), and never trap,
/// hang or read outside the directory.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var files: [String: [UInt8]] = [:]
    var name = "guideline.yaml"
    var current: [UInt8] = []
    let marker = Array("#--- ".utf8)
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        if line.starts(with: marker) {
            files[name, default: []] += current
            name = String(decoding: line.dropFirst(marker.count), as: UTF8.self)
            current = []
        } else {
            current += line
            current.append(UInt8(ascii: "\n"))
        }
    }
    files[name, default: []] += current

    for extra in extraFiles { unlink(directory + "/" + extra) }
    for (file, contents) in files where file == "guideline.yaml" || extraFiles.contains(file) {
        FileManager.default.createFile(atPath: directory + "/" + file, contents: Data(contents))
    }
    do {
        let ruleSet = try RuleLoader.load(directory: directory, runExamples: true)
        _ = ruleSet.rules.count
    } catch {
        for diagnostic in error.diagnostics {
            precondition(diagnostic.line >= 0 && diagnostic.column >= 0, "diagnostic at \(diagnostic.line):\(diagnostic.column)")
        }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
