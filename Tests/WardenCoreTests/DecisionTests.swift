import Foundation
import Testing
@testable import WardenCore

@Suite("Actions, decisions and messages")
struct DecisionTests {
    @Test func actionPrecedence() {
        #expect(Action.allow < .flag && Action.flag < .route && Action.route < .hold)
        #expect(Action.hold < .hide && Action.hide < .delete && Action.delete < .holdAuthor && Action.holdAuthor < .blockAuthor)
        #expect([Action.hide, .flag, .delete, .route].max() == .delete)
    }

    static let rules = """
        guideline: attacks
        title: No personal attacks
        text: Be kind.
        url: https://example.org/g#attacks
        rules:
          - id: attacks.insult
            words: [idiot, moron]
            action: hide
          - id: attacks.flagged
            words: [rubbish]
            action: flag
          - id: attacks.shadow
            words: [clown]
            action: delete
            mode: shadow

        """

    @Test("strongest action wins and every broken guideline is named in the message")
    func strongestActionWinsAndMessageCoversAll() throws {
        let rules = try TemporaryRules([
            "attacks.yaml": Self.rules,
            "spam.yaml": """
                guideline: spam
                title: No spam
                text: No adverts.
                url: https://example.org/g#spam
                message: "Hi {{author.name}} ({{author.id}}) from {{org.name}}: {{#guidelines}}[{{title}}|{{url}}]{{/guidelines}} -> {{redacted_text}}. Write to {{org.contact}}."
                rules:
                  - id: spam.lottery
                    words: [lottery]
                    action: delete
                """,
        ])
        defer { rules.remove() }
        let ruleSet = try rules.load()
        let judge = Judge(ruleSet: ruleSet, organisation: Organisation(name: "Acme", contact: "help@acme.example"))
        let post = Post(id: "p1", authorID: "u1", authorName: "Gemma", text: "lottery idiot & rubbish clown")
        let decision = judge.judge(post, now: Date(timeIntervalSince1970: 0))
        #expect(decision.action == .delete)
        #expect(decision.rules == ["spam.lottery", "attacks.insult", "attacks.flagged"])
        #expect(decision.guidelines == ["spam", "attacks"])
        #expect(decision.shadowRules == ["attacks.shadow"])
        #expect(decision.redactedText == "******* ***** & rubbish clown")
        #expect(decision.message == "Hi Gemma (u1) from Acme: [No spam|https://example.org/g#spam][No personal attacks|https://example.org/g#attacks] -> ******* ***** & rubbish clown. Write to help@acme.example.")
        #expect(decision.strikeGuidelines == ["spam", "attacks"])
        #expect(decision.matches.map(\.text) == ["lottery", "idiot", "rubbish"])
        #expect(decision.matches.first.map { ($0.start, $0.end) } ?? (0, 0) == (0, 7))
    }

    @Test("unless_guideline: a contact number in a post removed as spam is the spam, not personal data")
    func ruleStandsDownForAnotherGuideline() throws {
        let rules = try TemporaryRules([
            "spam.yaml": "guideline: spam\ntitle: No spam\ntext: t\nrules:\n  - id: spam.loans\n    phrases: [loans approved]\n    action: delete\n"
                + "  - id: spam.maybe\n    phrases: [cheap]\n    action: flag\n",
            "data.yaml": "guideline: personal-data\ntitle: Keep it private\ntext: t\nrules:\n  - id: data.phone\n    detect: [phone]\n"
                + "    when: { unless_guideline: [spam] }\n    action: hide\n",
        ])
        defer { rules.remove() }
        let judge = Judge(ruleSet: try rules.load())
        let spam = judge.judge(Post(id: "a", authorID: "u", text: "loans approved in 10 mins, text 07700 900199"))
        #expect(spam.action == .delete)
        #expect(spam.guidelines == ["spam"])
        #expect(spam.rules == ["spam.loans"])
        // A customer's own number still gets hidden, and a spam rule that only flags is no sanction.
        let customer = judge.judge(Post(id: "b", authorID: "u", text: "please call me back on 07700 900199"))
        #expect(customer.action == .hide && customer.guidelines == ["personal-data"])
        let flagged = judge.judge(Post(id: "c", authorID: "u", text: "cheap tickets? call me on 07700 900199"))
        #expect(flagged.action == .hide && flagged.guidelines == ["personal-data"])
    }

    @Test func unlessGuidelineMustNameAGuideline() throws {
        let rules = try TemporaryRules([
            "spam.yaml": "guideline: spam\ntitle: No spam\ntext: t\nrules:\n  - id: spam.loans\n    phrases: [loans approved]\n    action: delete\n",
            "data.yaml": "guideline: personal-data\ntitle: T\ntext: t\nrules:\n  - id: data.phone\n    detect: [phone]\n"
                + "    when: { unless_guideline: [spma] }\n    action: hide\n",
        ])
        defer { rules.remove() }
        let found = rules.diagnostics()
        #expect(found.contains { $0.file == "data.yaml" && $0.line == 7 && $0.column == 32 && $0.message.contains("unknown guideline \"spma\" in unless_guideline; did you mean \"spam\"") })
    }

    @Test func shadowRulesNeverChangeTheDecision() throws {
        let rules = try TemporaryRules(["attacks.yaml": Self.rules])
        defer { rules.remove() }
        let decision = Judge(ruleSet: try rules.load()).judge(Post(id: "p", authorID: "u", text: "what a clown"))
        #expect(decision.action == .allow)
        #expect(decision.shadowRules == ["attacks.shadow"])
        #expect(!decision.needsActionFile)
    }

    @Test func actionFileHasTheDesignFields() throws {
        let rules = try TemporaryRules(["attacks.yaml": Self.rules])
        defer { rules.remove() }
        let ruleSet = try rules.load()
        let decision = Judge(ruleSet: ruleSet).judge(Post(id: "fb-1", authorID: "u-77", authorName: "Gemma", text: "you \"idiot\"\n"), now: Date(timeIntervalSince1970: 1_795_000_000))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(decision.actionFileJSON())) as? [String: Any])
        #expect(object["post_id"] as? String == "fb-1")
        #expect(object["action"] as? String == "hide")
        #expect(object["guidelines"] as? [String] == ["attacks"])
        #expect(object["redacted_text"] as? String == "you \"*****\"\n")
        #expect((object["author"] as? [String: Any])?["id"] as? String == "u-77")
        #expect(object["decided_at"] as? String == "2026-11-18T11:06:40Z")
        #expect(object["ruleset"] as? String == ruleSet.digest)
        let match = try #require((object["matches"] as? [[String: Any]])?.first)
        #expect(match["start"] as? Int == 5 && match["end"] as? Int == 10 && match["text"] as? String == "idiot")
        #expect(object["message"] as? String != nil)
    }

    @Test func templatesRenderPlainTextNotHTML() {
        let template = MessageTemplate.compile("{{redacted_text}} & {{org.name}}").template
        #expect(template?.render(["redacted_text": "<b>fish & chips</b>", "org": ["name": "A&B"]]) == "<b>fish & chips</b> & A&B")
    }

    @Test(arguments: ["{{author.nmae}}", "{{#guidelines}}{{titel}}{{/guidelines}}", "{{> partial}}", "{{#author}}"])
    func badTemplatesAreRejected(source: String) {
        #expect(!MessageTemplate.compile(source).problems.isEmpty)
    }

    @Test func redactionMasksExactlyTheSpans() {
        let scalars = Array("héllo wörld 👋🏽 end".unicodeScalars)
        #expect(Judge.redact(scalars, spans: [6..<11, 12..<14]) == "héllo ***** ** end")
    }

    @Test func replayEscalatesRepeatOffenders() throws {
        let rules = try TemporaryRules([
            "attacks.yaml": Self.rules,
            "escalation.yaml": "window: 30d\ncount: [attacks]\nthresholds:\n  - {strikes: 2, action: hold_author}\n",
        ])
        defer { rules.remove() }
        let replay = Replay(ruleSet: try rules.load(), simulate: true)
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(replay.judge(Post(id: "1", authorID: "a", text: "idiot"), at: t).escalation == nil)
        let second = replay.judge(Post(id: "2", authorID: "a", text: "moron"), at: t + 60)
        #expect(second.escalation == .holdAuthor && second.authorStrikes == 2)
        let third = replay.judge(Post(id: "3", authorID: "a", text: "lovely day"), at: t + 120)
        #expect(third.action == .hold && third.escalation == .holdAuthor)
        #expect(replay.judge(Post(id: "4", authorID: "b", text: "lovely day"), at: t + 180).action == .allow)
    }
}
