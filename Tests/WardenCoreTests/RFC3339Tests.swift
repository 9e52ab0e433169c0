import Foundation
import Testing
@testable import WardenCore

/// One parser for every time stamp: the daemon's `created_at` and `warden diff` used to
/// disagree on the forms below (the diff's ISO8601DateFormatter refused them and fell back
/// to made-up times).
@Suite struct RFC3339Tests {
    @Test(arguments: [
        ("2026-11-22T10:00:00Z", 1_795_341_600.0),
        ("2026-11-22T10:00:00.250Z", 1_795_341_600.25),
        ("2026-11-22T11:00:00+01:00", 1_795_341_600.0),
        ("2026-11-22T08:30:00-01:30", 1_795_341_600.0),
        ("1970-01-01T00:00:00Z", 0.0),
        // The forms RFC 3339 §5.6 allows beside the canonical one.
        ("2026-11-22 10:00:00Z", 1_795_341_600.0),
        ("2026-11-22t10:00:00z", 1_795_341_600.0),
        ("2026-11-22T09:59:60Z", 1_795_341_600.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        // No zone: read as UTC.
        ("2026-11-22T10:00:00", 1_795_341_600.0),
    ])
    func parsesRFC3339(text: String, expected: Double) {
        #expect(RFC3339.parse(text)?.timeIntervalSince1970 == expected)
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-01T00:00:00Z", "2026-11-22 10:00", "2026-11-22T10:00:00Zjunk",
        "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:00:61Z",
        "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00+0100", "2026-11-22X10:00:00Z",
    ])
    func anythingElseIsNotATime(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test(arguments: [0.0, 1_795_341_600.0, 1_795_341_600.75, 951_782_400.0])
    func formatRoundTrips(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let text = RFC3339.format(date)
        #expect(text.hasSuffix("Z") && text.count == 20)
        #expect(RFC3339.parse(text)?.timeIntervalSince1970 == seconds.rounded(.down))
    }
}
