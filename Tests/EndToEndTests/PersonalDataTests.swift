import Foundation
import Testing

/// Personal data found in a post (here a card number) is masked in what Warden keeps at
/// rest: decisions.jsonl and the copy of the post in done/. The action file, read once by
/// the consumer that acts on the post, keeps the match.
@Suite(.serialized) struct PersonalDataTests {
    static let card = "4111 1111 1111 1111"

    @Test func cardNumbersAreMaskedInTheDecisionLogAndInDone() throws {
        let daemon = try DaemonUnderTest(rulesFixture: "personal-data-rules")
        try daemon.start()
        try daemon.drop(id: "p1", text: "my card is \(Self.card) why was it declined")
        let batch = #"{"id":"p2","author":{"id":"u2"},"text":"charged twice on 4111111111111111, help"}"# + "\n"
            + #"{"id":"p3","author":{"id":"u3"},"text":"a perfectly fine post","extra":{"kept":true}}"# + "\n"
        try daemon.dropRaw(name: "batch.jsonl", bytes: Data(batch.utf8))
        let finished = daemon.eventually { daemon.files(in: "done").contains("p1.json") && daemon.files(in: "done").contains("batch.jsonl") }
        #expect(daemon.stop() == 0)
        try #require(finished, "log:\n\(daemon.log)")

        let decisions = daemon.contents("decisions.jsonl") ?? ""
        #expect(!decisions.contains(Self.card) && !decisions.contains("4111111111111111"), "decisions.jsonl:\n\(decisions)")
        #expect(decisions.contains("**** **** **** ****"))
        let single = daemon.contents("done/p1.json") ?? ""
        #expect(!single.contains(Self.card), "done/p1.json: \(single)")
        #expect(single.contains("my card is **** **** **** **** why was it declined"))
        let lines = (daemon.contents("done/batch.jsonl") ?? "").split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains("charged twice on ****************, help") == true, "\(lines)")
        // A line without personal data is kept byte for byte, unknown fields included.
        #expect(lines.last == #"{"id":"p3","author":{"id":"u3"},"text":"a perfectly fine post","extra":{"kept":true}}"#)
        #expect(daemon.files(in: "done").allSatisfy { !$0.hasPrefix(".") }, "no masked temporary left behind")
        // The consumer still gets what matched, to act on the post.
        let action = try #require(daemon.actionFile("p1"))
        #expect((action["action"] as? String) == "hide")
    }
}
