// TEMPORARY: minimal stand-ins for the WardenCore API the daemon codes against, until the
// real engine lands on main. Delete this file after `git merge main`.
import Foundation

public struct Post: Sendable {
    public var id: String
    public var platform: String?
    public var authorID: String
    public var authorName: String?
    public var text: String
    public var createdAt: Date?
}

public struct PostLimits: Sendable {
    public var maxFileBytes: Int = 1 << 20
    public var maxTextScalars: Int = 20_000
    public init() {}
}

public struct PostError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

public enum PostParser {
    public static func parse(_ bytes: [UInt8], limits: PostLimits) throws(PostError) -> Post {
        if bytes.count > limits.maxFileBytes { throw PostError(reason: "post is \(bytes.count) bytes, over the limit of \(limits.maxFileBytes)") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw PostError(reason: "invalid JSON: not a JSON object")
        }
        guard let id = object["id"] as? String, !id.isEmpty, id.count <= 128,
              id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._:-".contains($0)) }) else {
            throw PostError(reason: "missing or invalid \"id\"")
        }
        guard let author = object["author"] as? [String: Any], let authorID = author["id"] as? String else {
            throw PostError(reason: "missing \"author.id\"")
        }
        guard let text = object["text"] as? String else { throw PostError(reason: "missing \"text\"") }
        var createdAt: Date?
        if let created = object["created_at"] as? String { createdAt = ISO8601DateFormatter().date(from: created) }
        return Post(id: id, platform: object["platform"] as? String, authorID: authorID,
                    authorName: author["name"] as? String, text: text, createdAt: createdAt)
    }

    public static func parseLines(_ bytes: [UInt8], limits: PostLimits) -> [Result<Post, PostError>] {
        var results: [Result<Post, PostError>] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continue }
            do throws(PostError) {
                results.append(.success(try parse(Array(line), limits: limits)))
            } catch {
                results.append(.failure(PostError(reason: "line \(lineNumber): \(error.reason)")))
            }
        }
        return results
    }
}

public enum Action: String, Sendable, Comparable, Codable, CaseIterable {
    case allow, flag, route, hold, hide, delete
    case holdAuthor = "hold_author"
    case blockAuthor = "block_author"
    var rank: Int { Action.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: Action, b: Action) -> Bool { a.rank < b.rank }
}

public struct EscalationPolicy: Sendable {
    public var window: TimeInterval = 30 * 86400
    public var counted: Set<String> = ["profanity"]
    public var thresholds: [(strikes: Int, action: Action)] = [(2, .holdAuthor), (3, .blockAuthor)]
    public func escalation(forStrikes strikes: Int) -> Action? {
        thresholds.filter { strikes >= $0.strikes }.map(\.action).max()
    }
}

public struct RuleSet: Sendable {
    public var digest: String
    public var escalation: EscalationPolicy
    public var ruleIDs: [String]
    var words: [String]
}

public struct Diagnostic: Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

public struct RuleLoadError: Error, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

public enum RuleLoader {
    public static func load(directory: String, runExamples: Bool = true) throws(RuleLoadError) -> RuleSet {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw RuleLoadError(diagnostics: [Diagnostic(file: directory, line: 0, column: 0, message: "cannot read rules directory")])
        }
        var words: [String] = []
        var hash: UInt64 = 14_695_981_039_346_656_037
        for name in names.sorted() where name.hasSuffix(".yaml") {
            let path = directory + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.contains("(((") {
                    throw RuleLoadError(diagnostics: [Diagnostic(file: path, line: index + 1, column: 1, message: "pattern does not compile")])
                }
                if let range = line.range(of: "words: [") {
                    words += line[range.upperBound...].dropLast().split(separator: ",").map {
                        $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"'")).lowercased()
                    }
                }
            }
        }
        return RuleSet(digest: "sha256:\(String(hash, radix: 16))", escalation: EscalationPolicy(),
                       ruleIDs: ["profanity.strong"], words: words)
    }
}

public struct Organisation: Sendable {
    public var name: String
    public var contact: String
    public init(name: String, contact: String) { self.name = name; self.contact = contact }
}

public protocol AuthorHistory {
    func postCount(author: String, within: TimeInterval, now: Date) -> Int
    func sameTextCount(author: String, textDigest: UInt64, within: TimeInterval, now: Date) -> Int
}

public struct NoHistory: AuthorHistory {
    public init() {}
    public func postCount(author: String, within: TimeInterval, now: Date) -> Int { 0 }
    public func sameTextCount(author: String, textDigest: UInt64, within: TimeInterval, now: Date) -> Int { 0 }
}

public final class Judge {
    let ruleSet: RuleSet
    public init(ruleSet: RuleSet, organisation: Organisation) { self.ruleSet = ruleSet }
    public func judge(_ post: Post, history: some AuthorHistory, now: Date) -> Decision {
        let lower = post.text.lowercased()
        let hit = ruleSet.words.contains { lower.contains($0) }
        var digest: UInt64 = 14_695_981_039_346_656_037
        for byte in lower.utf8 { digest = (digest ^ UInt64(byte)) &* 1_099_511_628_211 }
        return Decision(postID: post.id, action: hit ? .delete : .allow, guidelines: hit ? ["profanity"] : [],
                        rules: hit ? ["profanity.strong"] : [], strikeGuidelines: hit ? ["profanity"] : [],
                        textDigest: digest, authorID: post.authorID, authorName: post.authorName,
                        decidedAt: Date(), ruleset: ruleSet.digest)
    }
}

public struct Decision: Sendable {
    public var postID: String
    public var action: Action
    public var guidelines: [String]
    public var rules: [String]
    public var strikeGuidelines: [String]
    public var textDigest: UInt64
    public var authorID: String
    public var authorName: String?
    public var authorStrikes: Int?
    public var escalation: Action?
    public var decidedAt: Date
    public var ruleset: String
    public var needsActionFile: Bool { action != .allow || escalation != nil }

    private var jsonObject: [String: Any] {
        [
            "post_id": postID, "action": action.rawValue, "guidelines": guidelines, "rules": rules,
            "author": ["id": authorID, "strikes": authorStrikes as Any? ?? NSNull(),
                       "escalation": escalation?.rawValue as Any? ?? NSNull()],
            "decided_at": ISO8601DateFormatter().string(from: decidedAt), "ruleset": ruleset,
        ]
    }

    public func actionFileJSON() -> [UInt8] {
        (try? JSONSerialization.data(withJSONObject: jsonObject, options: [.sortedKeys])).map { Array($0) + [10] } ?? []
    }

    public func logLineJSON() -> [UInt8] {
        (try? JSONSerialization.data(withJSONObject: jsonObject, options: [.sortedKeys])).map { Array($0) } ?? []
    }
}
