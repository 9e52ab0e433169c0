import Testing
@testable import WardenCore

/// A company's published toll-free line is not a customer's personal data (issue 13: an
/// airline's own 1-800 number in a customer's tweet was hidden as the customer's phone).
@Suite("Toll-free numbers are not personal data")
struct TollFreeTests {
    func phones(in text: String) -> [String] {
        var text = text
        return text.withUTF8 { utf8 in
            var found: [Range<Int>] = []
            Detectors.find(.phone, in: utf8, into: &found)
            return found.map { String(decoding: UnsafeBufferPointer(rebasing: utf8[$0]), as: UTF8.self) }
        }
    }

    @Test(arguments: ["call 1-800-433-7300 they said", "ring 1 888 555 0100", "(877) 555-0100 is on hold", "+1 866 555 0100", "855-555-0100"])
    func tollFreeIsNotAPhone(_ text: String) {
        #expect(phones(in: text).isEmpty)
    }

    @Test(arguments: [("my cell is 1-555-433-7300", "1-555-433-7300"), ("text me at (212) 555-0100", "(212) 555-0100"), ("+1 808 555 0100", "+1 808 555 0100")])
    func otherNumbersStillAre(_ text: String, _ phone: String) {
        #expect(phones(in: text) == [phone])
    }
}
