import Testing
@testable import WardenCore

@Suite("Post files")
struct PostParserTests {
    @Test func readsTheDesignExample() throws {
        let post = try PostParser.parse("""
            {"id": "fb-10223", "platform": "facebook", "author": {"id": "u-77", "name": "Gemma"},
             "text": "the post as written", "created_at": "2026-11-22T10:00:00Z", "in_reply_to": "fb-10001",
             "visibility": "public", "extra": {"nested": [1, 2.5e3, true, null, "x"]}}
            """)
        #expect(post == Post(
            id: "fb-10223", platform: "facebook", authorID: "u-77", authorName: "Gemma", text: "the post as written",
            createdAt: "2026-11-22T10:00:00Z", inReplyTo: "fb-10001", visibility: "public"))
    }

    @Test func decodesEscapesAndSurrogates() throws {
        let post = try PostParser.parse(#"{"id":"a","author":{"id":"u"},"text":"line\nquote\" \u00e9 \ud83d\ude00 \/"}"#)
        #expect(post.text == "line\nquote\" é 😀 /")
    }

    @Test(arguments: [
        ("", "empty"),
        ("[1]", "must be a JSON object"),
        (#"{"id":"a","text":"x"}"#, "author.id"),
        (#"{"id":"a","author":{"id":"u"}}"#, "\"text\""),
        (#"{"author":{"id":"u"},"text":"x"}"#, "\"id\""),
        (#"{"id":7,"author":{"id":"u"},"text":"x"}"#, "must be a string"),
        (#"{"id":"a","author":"u","text":"x"}"#, "must be an object"),
        (#"{"id":"../../etc/passwd","author":{"id":"u"},"text":"x"}"#, "must be 1 to 128"),
        (#"{"id":"a/b","author":{"id":"u"},"text":"x"}"#, "must be 1 to 128"),
        (#"{"id":"..","author":{"id":"u"},"text":"x"}"#, "must not start with a dot"),
        (#"{"id":"a","id":"b","author":{"id":"u"},"text":"x"}"#, "duplicate key \"id\""),
        (#"{"id":"a","author":{"id":"u"},"text":"x","text":"y"}"#, "duplicate key \"text\""),
        (#"{"id":"a","author":{"id":"u"},"text":"x"} trailing"#, "after the post object"),
        (#"{"id":"a","author":{"id":"u"},"text":"x"#, "unterminated"),
        (#"{"id":"a","author":{"id":"u"},"text":"\ud800"}"#, "surrogate"),
    ])
    func rejectsBadPostsWithAReason(input: String, reason: String) {
        #expect {
            _ = try PostParser.parse(input)
        } throws: { error in
            guard let error = error as? PostError else { return false }
            return error.reason.contains(reason)
        }
    }

    @Test func rejectsInvalidUTF8AndRawControlCharacters() {
        var bytes = Array(#"{"id":"a","author":{"id":"u"},"text":"ab"}"#.utf8)
        bytes[bytes.count - 3] = 0xFF
        #expect(throws: PostError.self) { try PostParser.parse(bytes) }
        var nul = Array(#"{"id":"a","author":{"id":"u"},"text":"ab"}"#.utf8)
        nul[nul.count - 3] = 0
        #expect { try PostParser.parse(nul) } throws: { ($0 as? PostError)?.reason.contains("control character") == true }
    }

    @Test("JSON nested 100,000 deep is rejected without exhausting the stack")
    func deepNesting() {
        let deep = #"{"id":"a","author":{"id":"u"},"text":"x","x":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect { try PostParser.parse(deep) } throws: { ($0 as? PostError)?.reason.contains("nested more than") == true }
    }

    @Test func enforcesSizeLimits() {
        let limits = PostLimits(maxFileBytes: 100, maxTextScalars: 5)
        let big = #"{"id":"a","author":{"id":"u"},"text":""# + String(repeating: "x", count: 200) + "\"}"
        #expect { try PostParser.parse(Array(big.utf8), limits: limits) } throws: { ($0 as? PostError)?.reason.contains("over the limit") == true }
        #expect { try PostParser.parse(#"{"id":"a","author":{"id":"u"},"text":"ééééééé"}"#, limits: limits) } throws: {
            ($0 as? PostError)?.reason.contains("7 characters") == true
        }
    }

    @Test func jsonLinesGiveLineNumbersForBadLines() {
        let batch = Array("""
            {"id":"a","author":{"id":"u"},"text":"one"}

            {not json}
            {"id":"c","author":{"id":"u"},"text":"three"}
            """.utf8)
        let results = PostParser.parseLines(batch)
        #expect(results.count == 3)
        #expect((try? results[0].get())?.text == "one")
        if case .failure(let error) = results[1] { #expect(error.line == 3) } else { Issue.record("line 3 should fail") }
        #expect((try? results[2].get())?.id == "c")
    }
}
