import Foundation
import WardenCore

// MARK: Rule loader

extension FuzzChecks {
    /// A rules directory of its own; each input rewrites the files in it.
    public final class RuleLoaderCheck {
        /// The word list the seed guideline (Tests/Fixtures/rules-basic/profanity.yaml) names.
        public static let strongWords = "# strong words\nfuck*\nshit*\nwanker\ncock*\nass\nf*ck\nf**k"
        /// Files an input may carry after the first, each after a line `#--- NAME` (a YAML
        /// comment, so the first file stays valid YAML whatever follows).
        static let extraFiles: Set<String> = ["escalation.yaml", "second.yaml", "wordlists/extra.txt"]

        public let directory: String

        public init() {
            directory = NSTemporaryDirectory() + "warden-fuzz-rules-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try? FileManager.default.createDirectory(atPath: directory + "/wordlists", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: directory + "/wordlists/strong.txt", contents: Data(Self.strongWords.utf8))
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        /// Splits an input into files at `#--- NAME` lines; the first is guideline.yaml.
        public static func files(_ bytes: [UInt8]) -> [String: [UInt8]] {
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
            return files.filter { $0.key == "guideline.yaml" || extraFiles.contains($0.key) }
        }

        /// Loads the input as a guideline file, running its examples: loading returns a rule
        /// set or throws `RuleLoadError` with located diagnostics, and never traps, hangs or
        /// reads outside the directory.
        public func problem(_ bytes: [UInt8]) -> String? {
            for extra in Self.extraFiles { unlink(directory + "/" + extra) }
            for (file, contents) in Self.files(bytes) {
                FileManager.default.createFile(atPath: directory + "/" + file, contents: Data(contents))
            }
            do {
                _ = try RuleLoader.load(directory: directory, runExamples: true).rules.count
            } catch {
                if error.errors.isEmpty { return "refused without an error" }
                if let bad = error.diagnostics.first(where: { $0.line < 0 || $0.column < 0 }) {
                    return "diagnostic at \(bad.line):\(bad.column)"
                }
            }
            return nil
        }
    }
}

// MARK: Judge

extension FuzzChecks {
    /// Differential check of the judge's matching plan: a rule's spans as `Judge` reports them
    /// (after the literal gate decided whether and from where the pattern runs) must equal the
    /// spans of the same pattern run directly over the whole text. A gate that wrongly skips a
    /// pattern, or starts it too late, loses a match without crashing; this is what finds that.
    ///
    /// Input: the first line is the pattern (a leading `!` means `normalize: false`), the rest
    /// is the post's text.
    public final class JudgeCheck {
        public let directory: String
        /// Judges by rule source, so inputs that only mutate the text skip the load.
        private var judges: [String: (Judge, CompiledPattern)] = [:]
        private var normalizer = Normalizer()
        private let scratch = MatchScratch()

        public init() {
            directory = NSTemporaryDirectory() + "warden-fuzz-judge-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

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
            // YAML folds some characters inside quotes (a raw CR becomes a space): compare only
            // when the loader saw the pattern exactly as it will be run directly.
            guard let ruleSet = try? RuleLoader.load(directory: directory, runExamples: false), ruleSet.rules.count == 1,
                ruleSet.rules[0].patterns.first?.pattern.source == source
            else { return nil }
            if judges.count > 512 { judges.removeAll() }
            let entry = (Judge(ruleSet: ruleSet), pattern)
            judges[key] = entry
            return entry
        }

        public func problem(_ bytes: [UInt8]) -> String? {
            guard let input = String(validating: bytes, as: UTF8.self), let newline = input.firstIndex(of: "\n") else { return nil }
            var source = String(input[..<newline])
            let text = String(input[input.index(after: newline)...])
            let normalize = !source.hasPrefix("!")
            if !normalize { source.removeFirst() }
            guard !source.isEmpty, text.unicodeScalars.count <= PostLimits().maxTextScalars,
                let (judge, pattern) = judge(for: source, normalize: normalize)
            else { return nil }

            let result = judge.evaluate(Post(id: "p", authorID: "u", text: text)).result(forRule: 0)
            if result?.limit != nil { return nil }
            let reported = result?.spans ?? []

            // The same pattern, run directly from the start of the same view of the text.
            var expected: [Range<Int>] = []
            let gaveUp: String?
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
                        expected.append(Self.scalarRange(ofBytes: range, in: utf8))
                        return expected.count < 64
                    }
                }
            }
            if gaveUp != nil { return nil }
            let sorted = expected.sorted { $0.lowerBound < $1.lowerBound }
            if reported == sorted { return nil }
            return "judge reported \(reported) for /\(source)/ (normalize: \(normalize)) but the pattern alone matches \(sorted)"
        }

        private static func scalarRange(ofBytes range: Range<Int>, in utf8: [UInt8]) -> Range<Int> {
            func scalars(before end: Int) -> Int { utf8[..<end].reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) } }
            return scalars(before: range.lowerBound)..<scalars(before: range.upperBound)
        }
    }
}
