import Foundation
import Testing
@testable import WardenCore

@Suite("Appeal files")
struct AppealParsingTests {
    @Test func anAppealGetsItsIdFromTheAppealedPost() throws {
        let post = try PostParser.parse(#"{"type":"appeal","post_id":"fb-10223","author":{"id":"u-77","name":"Gemma"},"text":"why I disagree"}"#)
        #expect(post.id == "appeal-fb-10223")
        #expect(post.appealOf == "fb-10223")
        #expect(post.authorID == "u-77")
        #expect(post.text == "why I disagree")
    }

    @Test(arguments: [
        (#"{"type":"appeal","author":{"id":"u"},"text":"x"}"#, "needs \"post_id\""),
        (#"{"type":"appeal","post_id":"../x","author":{"id":"u"},"text":"x"}"#, "\"post_id\" must be"),
        (#"{"type":"appeal","post_id":""# + String(repeating: "a", count: 125) + #"","author":{"id":"u"},"text":"x"}"#, "\"post_id\" must be"),
    ])
    func badAppealsAreRejectedWithTheReason(input: String, expected: String) {
        #expect {
            _ = try PostParser.parse(input)
        } throws: { error in
            (error as? PostError)?.reason.contains(expected) == true
        }
    }

    @Test func otherTypesAndPostIdsAreTheProducersOwnFields() throws {
        let post = try PostParser.parse(#"{"id":"p1","type":"status","post_id":12,"author":{"id":"u"},"text":"x"}"#)
        #expect(post.appealOf == nil)
        #expect(post.id == "p1")
    }

    @Test func theLogLineCarriesTheTextAndTheAppealButTheActionFileDoesNot() throws {
        let post = Post(id: "appeal-p1", authorID: "u", text: "please", appealOf: "p1")
        let decision = Decision.appeal(post, appealing: "p1", at: Date(timeIntervalSince1970: 0), ruleset: "sha256:x")
        let line = String(decoding: decision.logLineJSON(), as: UTF8.self)
        #expect(line.hasPrefix(#"{"type":"appeal","appeal_of":"p1","post_id":"appeal-p1""#))
        #expect(line.contains(#""text":"please""#))
        let file = String(decoding: decision.actionFileJSON(), as: UTF8.self)
        #expect(!file.contains("\"text\"") && !file.contains("appeal_of"))
        #expect(!decision.needsActionFile)
    }
}
