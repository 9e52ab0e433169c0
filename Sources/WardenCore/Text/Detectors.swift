// Over 400 lines: five personal-data detectors, each a scanner beside its validator (Luhn, IBAN mod 97, …), sharing helpers.
/// The built-in personal-data detectors a rule can name with `detect:`.
///
/// Raw values are what moderators write in rule files, so they are part of the rule format.
public enum DetectorKind: String, CaseIterable, Sendable, Codable {
    case paymentCard = "payment_card"
    case email
    case phone
    case iban
    case password
}

/// Finds personal data in the original text of a post (not the normalised one: leetspeak
/// mapping would turn "0" into "o" and break every number).
///
/// Each detector starts with a byte-loop pre-check, because most posts contain no personal
/// data and the judge runs every enabled detector on every post; the clean path allocates
/// nothing and never builds a `String`.
public enum Detectors {
    /// Appends the UTF-8 byte ranges (into `utf8`) of every finding, so the judge can map them
    /// to scalar offsets and mask them in the message sent back to the poster.
    public static func find(
        _ kind: DetectorKind, in utf8: UnsafeBufferPointer<UInt8>, into found: inout [Range<Int>]
    ) {
        let text = Bytes(utf8)
        switch kind {
        case .paymentCard: findCards(text, into: &found)
        case .email: findEmails(text, into: &found)
        case .phone: findPhones(text, into: &found)
        case .iban: findIBANs(text, into: &found)
        case .password: findPasswords(text, into: &found)
        }
    }

    // MARK: - Payment cards

    /// Card numbers are 13-19 digits; counting digits first rejects nearly every post.
    private static func findCards(_ text: Bytes, into found: inout [Range<Int>]) {
        guard text.digitCount(atLeast: 13) else { return }
        var i = 0
        while i < text.count {
            guard text.isDigit(i), text.isNumberStart(i) else {
                i += 1
                continue
            }
            let run = scanDigitGroups(text, from: i, separators: [0x20, 0x2D])
            defer { i = max(run.end, i + 1) }
            guard text.isNumberEnd(run.end) else { continue }
            if let card = cardWithin(text, run) { found.append(card) }
        }
    }

    /// The longest window of groups shaped like a card (one block, 4-4-4-x or 4-6-5) that
    /// passes Luhn. Windows let "card 4111 1111 1111 1111 2 tickets" still be caught.
    private static func cardWithin(_ text: Bytes, _ run: DigitRun) -> Range<Int>? {
        let groups = run.groups
        if groups.count == 1 {
            let g = groups[0]
            guard (13...19).contains(g.count), luhn(text, [g]) else { return nil }
            return g
        }
        guard run.consistentSeparator else { return nil }
        // A grouped number longer than a card plus a CVV ("9400 1000 0000 0000 0000 00", a
        // parcel) is some other number, even if a window of it happens to pass Luhn.
        guard groups.reduce(0, { $0 + $1.count }) <= 20 else { return nil }
        var best: Range<Int>?
        var bestDigits = 0
        for a in 0..<groups.count {
            for b in (a + 1)..<groups.count {
                let window = Array(groups[a...b])
                let sizes = window.map(\.count)
                let digits = sizes.reduce(0, +)
                guard (13...19).contains(digits), digits > bestDigits else { continue }
                let fours = sizes.dropLast().allSatisfy { $0 == 4 } && (1...4).contains(sizes.last ?? 0)
                let amex = sizes == [4, 6, 5] || sizes == [4, 6, 4]
                guard fours || amex, luhn(text, window) else { continue }
                best = window[0].lowerBound..<(window.last?.upperBound ?? window[0].upperBound)
                bestDigits = digits
            }
        }
        return best
    }

    private static func luhn(_ text: Bytes, _ groups: [Range<Int>]) -> Bool {
        var sum = 0
        var double = false
        for g in groups.reversed() {
            for k in g.reversed() {
                var d = Int(text[k] &- 0x30)
                if double {
                    d *= 2
                    if d > 9 { d -= 9 }
                }
                sum += d
                double.toggle()
            }
        }
        return sum % 10 == 0
    }

    // MARK: - Email

    private static func findEmails(_ text: Bytes, into found: inout [Range<Int>]) {
        guard text.contains(UInt8(ascii: "@")) else { return }
        var searchFrom = 0
        for at in 0..<text.count where text[at] == UInt8(ascii: "@") && at >= searchFrom {
            // Local part: scan back over the RFC 5322 "dot-atom" subset people actually use.
            var start = at
            while start > 0, isLocalByte(text[start - 1]) { start -= 1 }
            while start < at, text[start] == UInt8(ascii: ".") { start += 1 }
            guard start < at, text[at - 1] != UInt8(ascii: "."),
                !hasDoubleDot(text, start..<at)
            else { continue }
            guard let end = domainEnd(text, from: at + 1) else { continue }
            found.append(start..<end)
            searchFrom = end
        }
    }

    private static func isLocalByte(_ b: UInt8) -> Bool {
        isASCIIAlnum(b) || b == 0x2E || b == 0x5F || b == 0x25 || b == 0x2B || b == 0x2D
    }

    private static func hasDoubleDot(_ text: Bytes, _ range: Range<Int>) -> Bool {
        var previousDot = false
        for k in range {
            let dot = text[k] == UInt8(ascii: ".")
            if dot && previousDot { return true }
            previousDot = dot
        }
        return false
    }

    /// End of "label(.label)+" with an alphabetic TLD of 2+ letters, or nil. A sentence's full
    /// stop after the address is not part of it.
    static func domainEnd(_ text: Bytes, from start: Int) -> Int? {
        var k = start
        var labels = 0
        var lastLabel = start..<start
        while true {
            let labelStart = k
            while k < text.count, isASCIIAlnum(text[k]) || text[k] == UInt8(ascii: "-") { k += 1 }
            guard k > labelStart, text[labelStart] != UInt8(ascii: "-"),
                text[k - 1] != UInt8(ascii: "-")
            else {
                // An empty or badly hyphenated label: stop before the dot that led here.
                if labels >= 2, labelStart > start { k = labelStart - 1 }
                break
            }
            labels += 1
            lastLabel = labelStart..<k
            if k + 1 < text.count, text[k] == UInt8(ascii: "."), isASCIIAlnum(text[k + 1]) {
                k += 1
                continue
            }
            break
        }
        guard labels >= 2, lastLabel.count >= 2,
            lastLabel.allSatisfy({ isASCIILetter(text[$0]) })
        else { return nil }
        let end = lastLabel.upperBound
        if end < text.count, isASCIIAlnum(text[end]) || text[end] == UInt8(ascii: "@") { return nil }
        return end
    }

    // MARK: - Phone numbers

    /// Phone numbers need 9+ digits; the shape rules below favour precision: a number is only
    /// a phone if it starts with '+', '00' or '0', or has the North American 3-3-4 shape.
    private static func findPhones(_ text: Bytes, into found: inout [Range<Int>]) {
        guard text.digitCount(atLeast: 9) else { return }
        var i = 0
        while i < text.count {
            let b = text[i]
            let startsHere: Bool
            if b == UInt8(ascii: "+") {
                startsHere = i + 1 < text.count && text.isDigit(i + 1) && text.isNumberStart(i)
            } else if b == UInt8(ascii: "(") {
                startsHere = i + 1 < text.count && text.isDigit(i + 1) && text.isNumberStart(i)
            } else {
                startsHere = text.isDigit(i) && text.isNumberStart(i)
            }
            guard startsHere else {
                i += 1
                continue
            }
            let candidate = scanPhone(text, from: i)
            if let phone = candidate.phone { found.append(phone) }
            i = max(candidate.end, i + 1)
        }
    }

    private static func scanPhone(_ text: Bytes, from start: Int) -> (phone: Range<Int>?, end: Int) {
        var k = start
        let plus = text[k] == UInt8(ascii: "+")
        if plus { k += 1 }
        var groups: [Int] = []
        var firstGroupInParens = false
        var lastDigitEnd = k
        while k < text.count {
            var parens = false
            if text[k] == UInt8(ascii: "(") {
                parens = true
                k += 1
            }
            let groupStart = k
            while k < text.count, text.isDigit(k) { k += 1 }
            let size = k - groupStart
            if size == 0 { break }
            if parens {
                guard k < text.count, text[k] == UInt8(ascii: ")") else {
                    return (nil, k)
                }
                k += 1
                if groups.isEmpty { firstGroupInParens = true }
            }
            groups.append(size)
            lastDigitEnd = k
            // One separator (or ") " already consumed) before the next group.
            guard k < text.count else { break }
            let sep = text[k]
            if sep == 0x20 || sep == UInt8(ascii: "-") || sep == UInt8(ascii: ".") {
                let next = k + 1
                if next < text.count, text.isDigit(next) || text[next] == UInt8(ascii: "(") {
                    k = next
                    continue
                }
            }
            break
        }
        let end = lastDigitEnd
        guard text.isNumberEnd(end), !text.isAdjacentToDateOrTime(end) else { return (nil, end) }
        let digits = groups.reduce(0, +)
        guard (9...15).contains(digits) else { return (nil, end) }

        let firstDigitIndex = plus ? start + 1 : (text[start] == UInt8(ascii: "(") ? start + 1 : start)
        let leadingZero = text[firstDigitIndex] == UInt8(ascii: "0")
        // Organisations' own lines are public, not personal data: UK freephone and
        // non-geographic numbers (0800, 0808, 0500, 03xx, 084x, 087x) and +44 forms of them.
        if isServiceNumber(text, digitsFrom: firstDigitIndex, international: plus) { return (nil, end) }
        let accepted: Bool
        if plus {
            accepted = true
        } else if leadingZero {
            // National ("07700 900123", "020 7946 0958") or "00" international: 10 digits
            // at least, so that a part number like "0121 455 90" is not taken for a phone.
            accepted = digits >= 10 && (groups.count == 1 || groups.allSatisfy { $0 <= 8 })
        } else {
            // North American: 555-010-9999, (555) 010-9999, 1-555-010-9999.
            accepted = groups == [3, 3, 4] || (groups == [1, 3, 3, 4] && !firstGroupInParens)
        }
        return (accepted ? start..<end : nil, end)
    }

    /// Whether the digits from `index` start a UK service number (0800, 0808, 0500, 03, 084, 087,
    /// or the same after +44 / 0044).
    private static func isServiceNumber(_ text: Bytes, digitsFrom index: Int, international: Bool) -> Bool {
        var digits: [UInt8] = []
        var k = index
        while k < text.count, digits.count < 8 {
            if text.isDigit(k) { digits.append(text[k] - UInt8(ascii: "0")) } else if text[k] != 0x20 && text[k] != UInt8(ascii: "-") && text[k] != UInt8(ascii: "(") && text[k] != UInt8(ascii: ")") { break }
            k += 1
        }
        // North American toll-free lines (800, 888, 877, 866, 855, 844, 833; 1-800…, +1 800…)
        // are companies' published numbers, never a customer's own.
        if (!international && digits.first != 0) || (international && digits.first == 1) {
            let area = digits.first == 1 ? digits.dropFirst() : digits[...]
            if area.count >= 3, area[area.startIndex] == 8, area[area.startIndex + 1] == area[area.startIndex + 2],
                [0, 3, 4, 5, 6, 7, 8].contains(area[area.startIndex + 1])
            {
                return true
            }
        }
        var national: ArraySlice<UInt8>
        if international || digits.starts(with: [0, 0]) {
            let rest = international ? digits[...] : digits.dropFirst(2)
            guard rest.starts(with: [4, 4]) else { return false }
            national = [0] + rest.dropFirst(2)
        } else {
            national = digits[...]
        }
        let prefixes: [[UInt8]] = [[0, 8, 0, 0], [0, 8, 0, 8], [0, 5, 0, 0], [0, 3], [0, 8, 4], [0, 8, 7]]
        return prefixes.contains { national.starts(with: $0) }
    }

    // MARK: - IBAN

    private static func findIBANs(_ text: Bytes, into found: inout [Range<Int>]) {
        guard text.count >= 15, text.digitCount(atLeast: 4) else { return }
        var i = 0
        while i + 4 <= text.count {
            guard isASCIILetter(text[i]), isASCIILetter(text[i + 1]), text.isDigit(i + 2),
                text.isDigit(i + 3), i == 0 || !isASCIIAlnum(text[i - 1]),
                let length = ibanLength(text[i], text[i + 1])
            else {
                i += 1
                continue
            }
            if let iban = scanIBAN(text, from: i, length: length) {
                found.append(iban)
                i = iban.upperBound
            } else {
                i += 1
            }
        }
    }

    /// Collects exactly `length` alphanumerics, either contiguous or in space-separated groups
    /// of four, and checks ISO 7064 mod 97.
    private static func scanIBAN(_ text: Bytes, from start: Int, length: Int) -> Range<Int>? {
        var chars: [UInt8] = []
        chars.reserveCapacity(length)
        var k = start
        var groupSize = 0
        var spaced = false
        while k < text.count, chars.count < length {
            let b = text[k]
            if isASCIIAlnum(b) {
                chars.append(b)
                groupSize += 1
                k += 1
            } else if b == 0x20, groupSize == 4, k + 1 < text.count, isASCIIAlnum(text[k + 1]),
                spaced || chars.count == 4
            {
                spaced = true
                groupSize = 0
                k += 1
            } else {
                break
            }
            if spaced, groupSize > 4 { return nil }
        }
        guard chars.count == length else { return nil }
        if k < text.count, isASCIIAlnum(text[k]) { return nil }
        // Rearranged: BBAN, then country and check digits; letters count as 10...35.
        var remainder = 0
        for b in chars[4...] + chars[..<4] {
            let upper = b >= 0x61 ? b - 0x20 : b
            if upper >= 0x41 {
                remainder = (remainder * 100 + Int(upper - 0x41 + 10)) % 97
            } else {
                remainder = (remainder * 10 + Int(upper - 0x30)) % 97
            }
        }
        return remainder == 1 ? start..<k : nil
    }

    /// IBAN lengths by country (SWIFT IBAN registry). Unknown countries are not reported:
    /// random "AB12..." tokens would pass mod 97 about 1 time in 97.
    private static func ibanLength(_ a: UInt8, _ b: UInt8) -> Int? {
        let code = String(decoding: [a & 0xDF, b & 0xDF], as: UTF8.self)
        return ibanLengths[code]
    }

    private static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
        "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
        "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
        "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
        "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
        "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
        "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
        "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
        "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    ]

    // MARK: - Password disclosures

    /// A keyword and the connector that may follow it. "pass" and "login"-style words only
    /// count with ':' or '=' ("my bus pass is valid" is not a disclosure).
    private struct SecretKeyword {
        var word: [UInt8]
        var allowsIs: Bool
        var digitsOnly: Bool
    }

    // Longest first, so "password" wins over "pass".
    private static let secretKeywords: [SecretKeyword] = [
        SecretKeyword(word: Array("passcode".utf8), allowsIs: true, digitsOnly: false),
        SecretKeyword(word: Array("password".utf8), allowsIs: true, digitsOnly: false),
        SecretKeyword(word: Array("passwd".utf8), allowsIs: true, digitsOnly: false),
        SecretKeyword(word: Array("pass".utf8), allowsIs: false, digitsOnly: false),
        SecretKeyword(word: Array("pwd".utf8), allowsIs: true, digitsOnly: false),
        SecretKeyword(word: Array("pin".utf8), allowsIs: true, digitsOnly: true),
        SecretKeyword(word: Array("pw".utf8), allowsIs: true, digitsOnly: false),
    ]

    /// Words that follow "password is" in complaints rather than disclosures.
    private static let notSecrets: Set<String> = [
        "a", "also", "always", "an", "and", "at", "bad", "being", "blank", "broken", "case",
        "changed", "compromised", "correct", "different", "easy", "empty", "expired", "fine",
        "for", "forgotten", "gone", "good", "hard", "hidden", "in", "incorrect", "invalid", "it",
        "just", "leaked", "locked", "long", "lost", "mandatory", "missing", "my", "needed",
        "never", "new", "no", "none", "not", "now", "ok", "okay", "on", "optional", "or",
        "really", "required", "reset", "right", "safe", "same", "saved", "secret", "secure",
        "sent", "set", "short", "simple", "so", "still", "stolen", "stored", "strong", "that",
        "the", "this", "too", "updated", "valid", "very", "weak", "what", "wrong", "your",
        "working", "expiring", "accepted", "rejected", "case-sensitive", "private", "changing",
        "protected", "here", "there", "below", "above", "attached",
    ]

    private static func findPasswords(_ text: Bytes, into found: inout [Range<Int>]) {
        // Pre-check: every keyword starts with "p"/"P".
        guard text.contains(UInt8(ascii: "p")) || text.contains(UInt8(ascii: "P")) else { return }
        var i = 0
        while i < text.count {
            let b = text[i] | 0x20
            guard b == UInt8(ascii: "p"), i == 0 || !isASCIILetter(text[i - 1]) else {
                i += 1
                continue
            }
            var matched: Range<Int>?
            for keyword in secretKeywords where text.hasPrefixIgnoringCase(keyword.word, at: i) {
                let afterWord = i + keyword.word.count
                if afterWord < text.count, isASCIILetter(text[afterWord]) { continue }
                if let secret = disclosedSecret(text, after: afterWord, keyword: keyword) {
                    matched = i..<secret.upperBound
                }
                break
            }
            if let matched {
                found.append(matched)
                i = matched.upperBound
            } else {
                i += 1
            }
        }
    }

    /// The secret after "KEYWORD: ", "KEYWORD = " or "KEYWORD is ", or nil if what follows
    /// reads like a complaint ("password is wrong") rather than a secret.
    private static func disclosedSecret(
        _ text: Bytes, after start: Int, keyword: SecretKeyword
    ) -> Range<Int>? {
        var k = text.skipSpaces(from: start)
        var viaIs = false
        if k < text.count, text[k] == UInt8(ascii: ":") || text[k] == UInt8(ascii: "=") {
            k += 1
        } else if keyword.allowsIs, k > start, text.hasPrefixIgnoringCase(Array("is".utf8), at: k),
            k + 2 < text.count, text[k + 2] == 0x20
        {
            k += 2
            viaIs = true
        } else {
            return nil
        }
        k = text.skipSpaces(from: k)
        let secretStart = k
        while k < text.count, text[k] > 0x20 { k += 1 }
        // Trailing sentence punctuation is not part of the secret ('!' and '?' may be).
        while k > secretStart, [0x2E, 0x2C, 0x3B, 0x29, 0x22, 0x27].contains(text[k - 1]) { k -= 1 }
        guard k > secretStart else { return nil }
        let secret = secretStart..<k
        let word = String(decoding: secret.map { text[$0] | (isASCIILetter(text[$0]) ? 0x20 : 0) },
                          as: UTF8.self)
        if notSecrets.contains(word) { return nil }
        if keyword.digitsOnly {
            return (3...8).contains(secret.count) && secret.allSatisfy({ text.isDigit($0) }) ? secret : nil
        }
        if viaIs {
            // After "is", a plain lowercase word is only a secret at the end of a sentence
            // ("my password is sunshine."), not mid-sentence ("my password is sunshine and...").
            let looksLikeSecret = secret.contains { !isASCIILetter(text[$0]) || (text[$0] < 0x61 && $0 != secretStart) }
            let atSentenceEnd = k == text.count || [0x2E, 0x21, 0x3F, 0x2C, 0x0A, 0x0D].contains(text[k])
            guard looksLikeSecret || atSentenceEnd else { return nil }
        }
        return secret
    }
}

// MARK: - Byte helpers

@inline(__always) func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
@inline(__always) func isASCIIDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
@inline(__always) func isASCIIAlnum(_ b: UInt8) -> Bool { isASCIILetter(b) || isASCIIDigit(b) }

/// A digit run with its groups (digit ranges) and whether one separator kind was used.
struct DigitRun {
    var groups: [Range<Int>]
    var end: Int
    var consistentSeparator: Bool
}

/// Groups of digits separated by a single separator byte, e.g. "4111 1111 1111 1111".
private func scanDigitGroups(_ text: Bytes, from start: Int, separators: [UInt8]) -> DigitRun {
    var groups: [Range<Int>] = []
    var k = start
    var separator: UInt8?
    var consistent = true
    while true {
        let groupStart = k
        while k < text.count, text.isDigit(k) { k += 1 }
        groups.append(groupStart..<k)
        guard k + 1 < text.count, separators.contains(text[k]), text.isDigit(k + 1) else { break }
        if let separator, separator != text[k] { consistent = false }
        separator = text[k]
        k += 1
    }
    return DigitRun(groups: groups, end: k, consistentSeparator: consistent)
}

/// A thin bounds-checked view; subscripts are only called with checked indices.
struct Bytes {
    let base: UnsafeBufferPointer<UInt8>
    init(_ base: UnsafeBufferPointer<UInt8>) { self.base = base }
    var count: Int { base.count }
    subscript(_ i: Int) -> UInt8 { base[i] }

    func isDigit(_ i: Int) -> Bool { i >= 0 && i < count && isASCIIDigit(base[i]) }

    func contains(_ byte: UInt8) -> Bool {
        for b in base where b == byte { return true }
        return false
    }

    func digitCount(atLeast minimum: Int) -> Bool {
        var digits = 0
        for b in base where isASCIIDigit(b) {
            digits += 1
            if digits >= minimum { return true }
        }
        return false
    }

    /// Not glued to a word, a decimal ("3.14159…") or a currency amount.
    func isNumberStart(_ i: Int) -> Bool {
        guard i > 0 else { return true }
        let previous = base[i - 1]
        if isASCIIAlnum(previous) || previous == UInt8(ascii: "$") || previous == UInt8(ascii: "/")
            || previous == UInt8(ascii: ":") || previous == UInt8(ascii: "#")
        {
            return false
        }
        if previous == UInt8(ascii: ".") || previous == UInt8(ascii: ",") || previous == UInt8(ascii: "-") {
            return !isDigit(i - 2)
        }
        if previous >= 0x80, i >= 2, base[i - 2] == 0xC2, previous == 0xA3 { return false }  // £
        if previous == 0xAC, i >= 3, base[i - 3] == 0xE2, base[i - 2] == 0x82 { return false }  // €
        return true
    }

    func isNumberEnd(_ i: Int) -> Bool {
        guard i < count else { return true }
        let next = base[i]
        if isASCIIAlnum(next) || next == UInt8(ascii: "%") || next == UInt8(ascii: "/") { return false }
        if next == UInt8(ascii: ".") || next == UInt8(ascii: ",") || next == UInt8(ascii: "-")
            || next == UInt8(ascii: ":")
        {
            return !isDigit(i + 1)
        }
        return true
    }

    /// "2026-11-22 10:00"-like context right after a number.
    func isAdjacentToDateOrTime(_ i: Int) -> Bool {
        i + 1 < count && base[i] == UInt8(ascii: ":") && isDigit(i + 1)
    }

    func hasPrefixIgnoringCase(_ word: [UInt8], at i: Int) -> Bool {
        guard i + word.count <= count else { return false }
        for (offset, w) in word.enumerated() where (base[i + offset] | 0x20) != w { return false }
        return true
    }

    func skipSpaces(from i: Int) -> Int {
        var k = i
        while k < count, base[k] == 0x20 || base[k] == 0x09 { k += 1 }
        return k
    }
}
