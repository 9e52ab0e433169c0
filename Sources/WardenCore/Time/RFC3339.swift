import Foundation

/// RFC 3339 time stamps: the one parser and formatter for every time Warden reads or writes
/// (a post's `created_at`, the decision log, `warden diff`), so that the daemon and the
/// tools never place the same post at different times.
///
/// Hand-written rather than `ISO8601DateFormatter`, which is not Sendable, costs microseconds
/// per call on the claim path, and refuses forms RFC 3339 allows.
public enum RFC3339 {
    /// Parses `2026-11-22T10:00:00Z`, with fractional seconds and `+01:00`-style offsets.
    /// Also what RFC 3339 §5.6 allows beside that: lower-case `t` and `z`, a space between
    /// date and time, and a leap second (`:60`, read as the first second of the next minute).
    /// A missing zone is read as UTC. Nil for anything else, including impossible dates
    /// (`2026-02-30`).
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        guard bytes.count >= 19 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from..<(from + count) {
                let byte = bytes[index]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45, let day = number(8, 2),
              bytes[10] == 84 || bytes[10] == 116 || bytes[10] == 32,
              let hour = number(11, 2), bytes[13] == 58, let minute = number(14, 2), bytes[16] == 58, let second = number(17, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second <= 60 else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count && bytes[index] == 46 {
            index += 1
            let digitsFrom = index
            var scale = 0.1
            while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > digitsFrom else { return nil }
        }
        var offset = 0
        if index < bytes.count {
            switch bytes[index] {
            case 90, 122: index += 1
            case 43, 45:
                guard index + 6 == bytes.count, let hours = number(index + 1, 2), bytes[index + 3] == 58,
                      let minutes = number(index + 4, 2), hours < 24, minutes < 60 else { return nil }
                offset = (hours * 3600 + minutes * 60) * (bytes[index] == 45 ? -1 : 1)
                index += 6
            default: return nil
            }
        }
        guard index == bytes.count else { return nil }
        // Days since the epoch (civil-from-days inverse, Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds) + fraction)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `2026-11-22T10:00:00Z`: UTC, whole seconds.
    public static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Written digit by digit: string interpolation here was 2% of `warden scan`.
        var out = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int32, _ at: Int, _ width: Int) {
            var value = value
            for k in stride(from: at + width - 1, through: at, by: -1) {
                out[k] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(parts.tm_year + 1900, 0, 4)
        out[4] = UInt8(ascii: "-")
        put(parts.tm_mon + 1, 5, 2)
        out[7] = UInt8(ascii: "-")
        put(parts.tm_mday, 8, 2)
        out[10] = UInt8(ascii: "T")
        put(parts.tm_hour, 11, 2)
        out[13] = UInt8(ascii: ":")
        put(parts.tm_min, 14, 2)
        out[16] = UInt8(ascii: ":")
        put(parts.tm_sec, 17, 2)
        out[19] = UInt8(ascii: "Z")
        return String(decoding: out, as: UTF8.self)
    }
}
