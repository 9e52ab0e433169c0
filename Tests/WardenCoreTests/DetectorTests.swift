import Testing

@testable import WardenCore

/// The text of every finding, which is what gets masked in the message to the poster.
private func findings(_ kind: DetectorKind, in text: String) -> [String] {
    let bytes = Array(text.utf8)
    var found: [Range<Int>] = []
    bytes.withUnsafeBufferPointer { Detectors.find(kind, in: $0, into: &found) }
    return found.map { String(decoding: bytes[$0], as: UTF8.self) }
}

@Suite("Detectors: personal data in posts")
struct DetectorTests {
    @Test(
        "Luhn-valid card numbers are found, however they are grouped",
        arguments: [
            ("my card is 4111 1111 1111 1111 thanks", "4111 1111 1111 1111"),
            ("4111-1111-1111-1111", "4111-1111-1111-1111"),
            ("amex 378282246310005.", "378282246310005"),
            ("amex 3782 822463 10005", "3782 822463 10005"),
            ("visa 4012888888881881", "4012888888881881"),
            ("card: 5555 5555 5555 4444, exp 12/27", "5555 5555 5555 4444"),
            ("card 4111 1111 1111 1111 2 tickets", "4111 1111 1111 1111"),
        ])
    func cards(_ post: String, _ card: String) {
        #expect(findings(.paymentCard, in: post) == [card])
    }

    @Test(
        "Order numbers, phones and non-Luhn numbers are not cards",
        arguments: [
            "order 4111 1111 1111 1112",  // Luhn fails
            "ref 1234567890123456",
            "order #4111111111111111",
            "call +44 20 7946 0958",
            "tracking 12345678901234567890123",  // too long
            "card41111111111111111",  // glued to a word
            "the total was 4111111111111111.50",  // a decimal amount
            "2026-11-22 2026-11-23",
            "nothing to see here",
        ])
    func notCards(_ post: String) {
        #expect(findings(.paymentCard, in: post).isEmpty)
    }

    @Test(
        "Email addresses are found, sentence punctuation excluded",
        arguments: [
            ("mail me at gemma.jones@example.co.uk.", "gemma.jones@example.co.uk"),
            ("bob+news@mail.example.com", "bob+news@mail.example.com"),
            ("(a_b-c@ex-ample.org)", "a_b-c@ex-ample.org"),
        ])
    func emails(_ post: String, _ email: String) {
        #expect(findings(.email, in: post) == [email])
    }

    @Test(
        "Mentions and broken addresses are not emails",
        arguments: [
            "thanks @council_team for the help",
            "see you me@ home",
            "me @home",
            "user@localhost",
            "a@b.c",
            "x@domain.123",
            ".@example.com",
        ])
    func notEmails(_ post: String) {
        #expect(findings(.email, in: post).isEmpty)
    }

    @Test(
        "Phone numbers in international and national formats",
        arguments: [
            ("call me on +44 20 7946 0958 please", "+44 20 7946 0958"),
            ("+1 (555) 010-9999", "+1 (555) 010-9999"),
            ("0044 20 7946 0958", "0044 20 7946 0958"),
            ("mob 07700 900123", "07700 900123"),
            ("ring 020 7946 0958.", "020 7946 0958"),
            ("(555) 010-9999", "(555) 010-9999"),
            ("555-010-9999", "555-010-9999"),
            ("555.010.9999", "555.010.9999"),
            ("+447700900123", "+447700900123"),
            ("07700900123", "07700900123"),
        ])
    func phones(_ post: String, _ phone: String) {
        #expect(findings(.phone, in: post) == [phone])
    }

    @Test(
        "Dates, times, prices, cards, IBANs and order numbers are not phones",
        arguments: [
            "posted 2026-11-22 at 10:00",
            "on 22/11/2026 10:30",
            "it cost $1,299,999.00",
            "it cost £1299999999",
            "4111 1111 1111 1111",
            "GB82 WEST 1234 5698 7654 32",
            "DE89 3704 0044 0532 0130 00",
            "order 123456789",
            "order number 9876543210",
            "version 10.4.2.1.3.3",
            "short 555-0199",
            "1 000 000 000 views",
        ])
    func notPhones(_ post: String) {
        #expect(findings(.phone, in: post).isEmpty)
    }

    @Test(
        "IBANs with valid check digits, spaced or not",
        arguments: [
            ("pay GB82 WEST 1234 5698 7654 32 today", "GB82 WEST 1234 5698 7654 32"),
            ("GB82WEST12345698765432", "GB82WEST12345698765432"),
            ("DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
            ("iban: FR14 2004 1010 0505 0001 3M02 606.", "FR14 2004 1010 0505 0001 3M02 606"),
            ("NL91ABNA0417164300", "NL91ABNA0417164300"),
        ])
    func ibans(_ post: String, _ iban: String) {
        #expect(findings(.iban, in: post) == [iban])
    }

    @Test(
        "Wrong check digits, wrong lengths and unknown countries are not IBANs",
        arguments: [
            "GB83 WEST 1234 5698 7654 32",  // check digits off by one
            "GB82 WEST 1234 5698 7654 3",  // one short
            "GB82 WEST 1234 5698 7654 321",  // one long
            "DE88 3704 0044 0532 0130 00",
            "ZZ82WEST12345698765432",
            "AB12 is my flat number",
        ])
    func notIBANs(_ post: String) {
        #expect(findings(.iban, in: post).isEmpty)
    }

    @Test(
        "Password disclosures are found with the secret",
        arguments: [
            ("my password is hunter2", "password is hunter2"),
            ("password: Secr3t!", "password: Secr3t!"),
            ("Password = letmein.", "Password = letmein"),
            ("pw is abc123 lol", "pw is abc123"),
            ("my pin is 1234", "pin is 1234"),
            ("PIN: 0000", "PIN: 0000"),
            ("login: bob / pass: xyz", "pass: xyz"),
            ("my password is sunshine.", "password is sunshine"),
        ])
    func passwords(_ post: String, _ disclosure: String) {
        #expect(findings(.password, in: post) == [disclosure])
    }

    @Test(
        "Talking about passwords is not disclosing one",
        arguments: [
            "I forgot my password",
            "reset your password",
            "the password field is broken",
            "my password is wrong",
            "the password is required",
            "my password is not working since the update",
            "your password is incorrect apparently",
            "my bus pass is valid",
            "pin is wrong",
            "my pin is lost",
            "spinning: fast",
            "passport: renewed",
            "the password is the same as before",
        ])
    func notPasswords(_ post: String) {
        #expect(findings(.password, in: post).isEmpty)
    }

    @Test("Several findings in one post are all reported, in order")
    func several() {
        #expect(
            findings(.email, in: "a@example.com or b@example.org") == ["a@example.com", "b@example.org"])
        #expect(
            findings(.paymentCard, in: "4111111111111111 and 5555555555554444")
                == ["4111111111111111", "5555555555554444"])
    }

    @Test("Byte ranges index the UTF-8 text, past any emoji before them", arguments: DetectorKind.allCases)
    func byteRangesAfterEmoji(_ kind: DetectorKind) {
        let secret: String
        switch kind {
        case .paymentCard: secret = "4111 1111 1111 1111"
        case .email: secret = "gemma@example.com"
        case .phone: secret = "+44 20 7946 0958"
        case .iban: secret = "GB82 WEST 1234 5698 7654 32"
        case .password: secret = "password: hunter2"
        }
        #expect(findings(kind, in: "😀👍🏽 here: \(secret) 🙏") == [secret])
    }

    @Test("A clean post yields nothing from any detector", arguments: DetectorKind.allCases)
    func cleanPost(_ kind: DetectorKind) {
        #expect(findings(kind, in: "Worst service ever, you never called me back! 😡").isEmpty)
        #expect(findings(kind, in: "").isEmpty)
    }
}
