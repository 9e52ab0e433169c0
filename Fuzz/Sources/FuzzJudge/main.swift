import CFuzzerDriver
import Foundation
import WardenCore

/// Differential check of the judge's matching plan: a rule's spans as `Judge` reports them
/// (after the literal gate decided whether and from where the pattern runs) must equal the
/// spans of the same pattern run directly over the whole text. A gate that wrongly skips a
/// pattern, or starts it too late, loses a match without crashing; this is what finds that.
///
/// Input: the first line is the pattern (a leading `!` means `normalize: false`), the rest
/// is the post's text.
private let directory: String = {
    let path = NSTemporaryDirectory() + "warden-fuzz-judge-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

/// Judges by rule source, so inputs that only mutate the text skip the load.
nonisolated(unsafe) private var judges: [String: (Judge, CompiledPattern)] = [:]
nonisolated(unsafe) private var normalizer = Normalizer()
nonisolated(unsafe) private let scratch = MatchScratch()

private func judge(for source: String, normalize: Bool) -> (Judge, CompiledPattern)? {
    let key = (normalize ? "n" : "o") + source
    if let cached = judges[key] { return cached }
    guard let pattern = try? CompiledPattern(source) else { return nil }
    let quoted = "'" + source.replacingOccurrences(of: "'", with: "''") + "'"
    let yaml = """
        guideline: g
        title: t
        text: t
        rules:
          - id: r
            patterns: [\(quoted)]
            normalize: \(normalize)
            action: flag
        """
    FileManager.default.createFile(atPath: directory + "/g.yaml", contents: Data(yaml.utf8))
    guard let ruleSet = try? RuleLoader.load(directory: directory, runExamples: false), ruleSet.rules.count == 1 else { return nil }
    if judges.count > 512 { judges.removeAll() }
    let entry = (Judge(ruleSet: ruleSet), pattern)
    judges[key] = entry
    return entry
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let input = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self),
        let newline = input.firstIndex(of: "\n")
    else { return 0 }
    var source = String(input[..<newline])
    let text = String(input[input.index(after: newline)...])
    let normalize = !source.hasPrefix("!")
    if !normalize { source.removeFirst() }
    guard !source.isEmpty, text.unicodeScalars.count <= PostLimits().maxTextScalars,
        let (judge, pattern) = judge(for: source, normalize: normalize)
    else { return 0 }

    let evaluation = judge.evaluate(Post(id: "p", authorID: "u", text: text))
    let result = evaluation.result(forRule: 0)
    if result?.limit != nil { return 0 }
    let reported = result?.spans ?? []

    // The same pattern, run directly from the start of the same view of the text.
    var expected: [Range<Int>] = []
    var gaveUp: String?
    if normalize {
        let normalized = normalizer.normalize(text)
        gaveUp = normalized.bytes.withUnsafeBufferPointer { subject in
            scratch.forEachMatch(pattern, in: subject) { range in
                expected.append(normalized.originalRange(ofBytes: range))
                return expected.count < 64
            }
        }
    } else {
        let utf8 = Array(text.utf8)
        gaveUp = utf8.withUnsafeBufferPointer { subject in
            scratch.forEachMatch(pattern, in: subject) { range in
                expected.append(scalarRange(ofBytes: range, in: utf8))
                return expected.count < 64
            }
        }
    }
    if gaveUp != nil { return 0 }
    precondition(
        reported == expected.sorted { $0.lowerBound < $1.lowerBound },
        "judge reported \(reported) for /\(source)/ (normalize: \(normalize)) but the pattern alone matches \(expected)")
    return 0
}

private func scalarRange(ofBytes range: Range<Int>, in utf8: [UInt8]) -> Range<Int> {
    func scalars(before end: Int) -> Int { utf8[..<end].reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) } }
    return scalars(before: range.lowerBound)..<scalars(before: range.upperBound)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
