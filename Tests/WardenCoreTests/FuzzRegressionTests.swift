import Foundation
import Testing

@testable import WardenCore

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

    @Test("every kept post-parser input parses or is refused with a reason, and round-trips")
    func postParserCorpus() {
        let inputs = Self.corpus("FuzzPostParser")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            switch Result(catching: { () throws(PostError) -> Post in try PostParser.parse(bytes) }) {
            case .success(let post):
                #expect(Post.isValidID(post.id), "\(name)")
                #expect(post.text.unicodeScalars.count <= PostLimits().maxTextScalars, "\(name)")
            case .failure(let error):
                #expect(!error.reason.isEmpty, "\(name)")
            }
            for case .failure(let error) in PostParser.parseLines(bytes) {
                #expect(error.line != nil, "\(name): a bad JSON Lines line must carry its number")
            }
        }
    }

    @Test("every kept normaliser input keeps its offsets inside the text")
    func normalizerCorpus() {
        let inputs = Self.corpus("FuzzNormalizer")
        #expect(!inputs.isEmpty)
        var normalizer = Normalizer()
        for (name, bytes) in inputs {
            let text = String(decoding: bytes, as: UTF8.self)
            let problem = NormalizerPropertyTests.offsetProblem(normalizer.normalize(text), scalarCount: text.unicodeScalars.count)
            #expect(problem == nil, "\(name): \(problem ?? "")")
        }
    }

    @Test("every kept template compiles or reports a located problem, and renders")
    func templateCorpus() {
        let inputs = Self.corpus("FuzzTemplate")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            guard let source = String(validating: bytes, as: UTF8.self) else { continue }
            let compiled = MessageTemplate.compile(source)
            #expect((compiled.template == nil) == !compiled.problems.isEmpty, "\(name)")
            #expect(compiled.problems.allSatisfy { $0.line >= 1 && $0.column >= 1 }, "\(name)")
            _ = compiled.template?.render(Self.templateContext)
        }
    }

    @Test("every kept rules file loads or is refused with located errors")
    func ruleLoaderCorpus() throws {
        let inputs = Self.corpus("FuzzRuleLoader")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            let files = Self.ruleFiles(bytes)
            let rules = try TemporaryRules([:])
            defer { rules.remove() }
            try Data(Self.strongWords.utf8).write(to: URL(fileURLWithPath: rules.path + "/wordlists/strong.txt"))
            for (file, contents) in files { try Data(contents).write(to: URL(fileURLWithPath: rules.path + "/" + file)) }
            do {
                _ = try RuleLoader.load(directory: rules.path, runExamples: true)
            } catch {
                #expect(!error.errors.isEmpty, "\(name): refused without an error")
            }
        }
    }

    @Test("for every kept judge input, the judge reports exactly the spans the pattern alone finds")
    func judgeCorpus() throws {
        let inputs = Self.corpus("FuzzJudge")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            guard let input = String(validating: bytes, as: UTF8.self), let newline = input.firstIndex(of: "\n") else { continue }
            var source = String(input[..<newline])
            let text = String(input[input.index(after: newline)...])
            let normalize = !source.hasPrefix("!")
            if !normalize { source.removeFirst() }
            guard !source.isEmpty, let pattern = try? CompiledPattern(source) else { continue }
            let rules = try TemporaryRules([
                "g.yaml": """
                guideline: g
                title: t
                text: t
                rules:
                  - id: r
                    patterns: ['\(source.replacingOccurrences(of: "'", with: "''"))']
                    normalize: \(normalize)
                    action: flag
                """
            ])
            defer { rules.remove() }
            guard let ruleSet = try? rules.load(runExamples: false) else { continue }
            let result = Judge(ruleSet: ruleSet).evaluate(Post(id: "p", authorID: "u", text: text)).result(forRule: 0)
            guard result?.limit == nil else { continue }

            var expected: [Range<Int>] = []
            var normalizer = Normalizer()
            let normalized = normalizer.normalize(text)
            var subject = normalize ? normalized.bytes : Array(text.utf8)
            let gaveUp = subject.withUnsafeMutableBufferPointer { buffer in
                MatchScratch().forEachMatch(pattern, in: UnsafeBufferPointer(buffer)) { range in
                    expected.append(normalize ? normalized.originalRange(ofBytes: range) : Judge.scalarRange(ofBytes: range, in: UnsafeBufferPointer(buffer)))
                    return expected.count < Judge.maxSpansPerRule
                }
            }
            guard gaveUp == nil else { continue }
            #expect(result?.spans ?? [] == expected.sorted { $0.lowerBound < $1.lowerBound }, "\(name): /\(source)/ on \(literal(text))")
        }
    }

    // MARK: Shared with the fuzz targets

    /// Fuzz/Sources/FuzzRuleLoader's word list, so corpus entries load the same way here.
    static let strongWords = "# strong words\nfuck*\nshit*\nwanker\ncock*\nass\nf*ck\nf**k"

    /// Splits a FuzzRuleLoader input into files at `#--- NAME` lines, as the target does.
    static func ruleFiles(_ bytes: [UInt8]) -> [String: [UInt8]] {
        let allowed: Set<String> = ["guideline.yaml", "escalation.yaml", "second.yaml", "wordlists/extra.txt"]
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
        return files.filter { allowed.contains($0.key) }
    }

    static var templateContext: [String: Any] { [
        "author": ["name": "Sam", "id": "u-1"],
        "guideline": ["id": "profanity", "title": "No profanity", "url": "https://example.org/g#p", "text": "Keep it clean."],
        "guidelines": [
            ["id": "profanity", "title": "No profanity", "url": "https://example.org/g#p", "text": "Keep it clean."],
            ["id": "spam", "title": "No spam", "url": "https://example.org/g#s", "text": "No adverts.", "last": true],
        ],
        "redacted_text": "what the **** & <b>",
        "org": ["name": "Example", "contact": "mods@example.org"],
        "action": "delete", "action_past": "deleted",
        "post": ["id": "fb-1", "platform": "facebook"],
        "rule": ["id": "profanity.strong"],
        "route_to": "",
    ] }

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
    ])
    func gateDoesNotMisreadVariableLengthEscapes(pattern: String, text: String, expected: [Range<Int>]) throws {
        #expect(try Self.judgedSpans(pattern: pattern, normalize: false, text: text) == expected)
    }
}
