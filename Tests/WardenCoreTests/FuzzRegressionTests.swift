import Foundation
import Testing

@testable import WardenCore
import WardenFuzzChecks

/// What the fuzzers (Fuzz/, `make fuzz`) found, kept as ordinary tests so CI checks them
/// without libFuzzer: every crashing input inlined with the behaviour it must have now, and
/// a replay of each kept corpus through the same checks the fuzz targets make.
@Suite("Fuzz findings and kept corpora")
struct FuzzRegressionTests {
    // MARK: Kept corpora

    static func corpus(_ target: String) -> [(name: String, bytes: [UInt8])] {
        let directory = Repository.root + "/Fuzz/Corpus/" + target
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: directory + "/" + name).map { (name, Array($0)) }
        }
    }

    // Each replays a kept corpus through the check its fuzz target makes (WardenFuzzChecks).

    @Test("every kept post-parser input parses or is refused with a reason, and round-trips")
    func postParserCorpus() {
        let inputs = Self.corpus("FuzzPostParser")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            let problem = FuzzChecks.postParserProblem(bytes)
            #expect(problem == nil, "\(name): \(problem ?? "")")
        }
    }

    @Test("every kept normaliser input keeps its offsets inside the text")
    func normalizerCorpus() {
        let inputs = Self.corpus("FuzzNormalizer")
        #expect(!inputs.isEmpty)
        var check = FuzzChecks.NormalizerCheck()
        for (name, bytes) in inputs {
            let problem = check.problem(bytes)
            #expect(problem == nil, "\(name): \(problem ?? "")")
        }
    }

    @Test("every kept template compiles or reports a located problem, and renders")
    func templateCorpus() {
        let inputs = Self.corpus("FuzzTemplate")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            let problem = FuzzChecks.templateProblem(bytes)
            #expect(problem == nil, "\(name): \(problem ?? "")")
        }
    }

    @Test("every kept rules file loads or is refused with located errors")
    func ruleLoaderCorpus() {
        let inputs = Self.corpus("FuzzRuleLoader")
        #expect(!inputs.isEmpty)
        let check = FuzzChecks.RuleLoaderCheck()
        for (name, bytes) in inputs {
            let problem = check.problem(bytes)
            #expect(problem == nil, "\(name): \(problem ?? "")")
        }
    }

    @Test("for every kept judge input, the judge reports exactly the spans the pattern alone finds")
    func judgeCorpus() {
        let inputs = Self.corpus("FuzzJudge")
        #expect(!inputs.isEmpty)
        let check = FuzzChecks.JudgeCheck()
        for (name, bytes) in inputs {
            let problem = check.problem(bytes)
            #expect(problem == nil, "\(name): \(problem ?? "")")
        }
    }

    @Test("the checks fail on what they exist to catch")
    func checksCatchProblems() {
        // A template problem reported at line 0 would be refused; a good template passes.
        #expect(FuzzChecks.templateProblem(Array("Hello {{author.name}}".utf8)) == nil)
        // A judge input whose pattern matches is compared, and agrees.
        let check = FuzzChecks.JudgeCheck()
        #expect(check.problem(Array("!ab\nxxabyyab".utf8)) == nil)
        // An offset map that points past the text is reported.
        var normalizer = Normalizer()
        var broken = normalizer.normalize("abc")
        broken.scalarEnd[broken.scalarEnd.count - 1] = 99
        #expect(FuzzChecks.offsetProblem(broken, scalarCount: 3) != nil)
    }

    // MARK: Crashes found by fuzzing

    /// The spans `Judge` reports for a one-pattern rule, through the loader and the literal gate.
    static func judgedSpans(pattern: String, normalize: Bool, text: String) throws -> [Range<Int>] {
        let rules = try TemporaryRules([
            "g.yaml": """
            guideline: g
            title: t
            text: t
            rules:
              - id: r
                patterns: ['\(pattern)']
                normalize: \(normalize)
                action: flag
            """
        ])
        defer { rules.remove() }
        let judge = Judge(ruleSet: try rules.load(runExamples: false))
        return judge.evaluate(Post(id: "p", authorID: "u", text: text)).result(forRule: 0)?.spans ?? []
    }

    /// FuzzJudge, crash-be77df099612d76f2c56535193706b1db10515d4 (`!(?<=)\000`, then the text):
    /// the literal gate read `\000` (an octal escape for NUL) as `\0` followed by the literal
    /// text "00", so the pattern ran only on posts containing "00" and its matches elsewhere
    /// were silently lost. The same misreading hit `\101` (octal "A"), `\cA`, `\pL` and
    /// back-references; the gate now gives up on such escapes and the pattern always runs.
    @Test(arguments: [
        (#"(?<=)\000"#, "\u{0}\u{0}\u{0}t\nf.\u{0430}r 41e", [0..<1, 1..<2, 2..<3]),
        (#"\101bc"#, "xAbc", [1..<4]),
        (#"\cAfoo"#, "\u{1}foo", [0..<4]),
        (#"\pLx"#, "ax", [0..<2]),
        (#"(\w)\1z"#, "aaz", [0..<3]),
        (#"\Qa.b\E"#, "xa.b", [1..<4]),
        // FuzzJudge, crash-e0fffd0b00d993aaf9e4d885e4a4d912e27705a6: `\x` with no hex digit
        // is NUL, but the gate took the next two characters as its digits, here the `|`,
        // swallowing the empty branch that matches everywhere.
        (#"f\x|"#, "Wak", [0..<0, 1..<1, 2..<2, 3..<3]),
        (#"\x7(?:ab|cd)"#, "\u{7}cd", [0..<3]),
    ])
    func gateDoesNotMisreadVariableLengthEscapes(pattern: String, text: String, expected: [Range<Int>]) throws {
        #expect(try Self.judgedSpans(pattern: pattern, normalize: false, text: text) == expected)
    }

    /// FuzzJudge, crash-41887218e6d461f8fe633c636c760714c4112eef (kept in the corpus as
    /// `posix-name-unfinished`): inside a class the gate read `[:` as the start of a POSIX
    /// name and skipped to the next `]`, so in `h[[:a]|.` the class swallowed `|.` and the
    /// branch that matches any character; the pattern ran on no post. PCRE2 reads `[:` as a
    /// name only when `:]` comes before any `]` or another `[:`.
    @Test(arguments: [
        (#"h[[:a]|."#, "28", [0..<1, 1..<2]),
        (#"h[(?[:a]|."#, "28", [0..<1, 1..<2]),
        (#"[[:alpha:]]ello|xyz"#, "hello xyz", [0..<5, 6..<9]),
        (#"(?=[)])x|yz"#, "yz", [0..<2]),
        (#"h[[:a]\]|."#, "2", [0..<1]),
    ])
    func gateReadsPOSIXClassNamesAsPCRE2Does(pattern: String, text: String, expected: [Range<Int>]) throws {
        #expect(try Self.judgedSpans(pattern: pattern, normalize: false, text: text) == expected)
    }
}
