// Temporary stand-ins until the text layer lands (Sources/WardenCore/Text).
public struct NormalizedText: Sendable {
    public var bytes: [UInt8] = []
    public var scalarStart: [Int32] = []
    public var scalarEnd: [Int32] = []
    public init() {}
    public func originalRange(ofBytes range: Range<Int>) -> Range<Int> {
        guard !scalarStart.isEmpty else { return 0..<0 }
        let lower = range.lowerBound < scalarStart.count ? Int(scalarStart[range.lowerBound]) : Int(scalarEnd.last ?? 0)
        let upper = range.upperBound > 0 ? Int(scalarEnd[min(range.upperBound, scalarEnd.count) - 1]) : lower
        return lower..<max(lower, upper)
    }
}
public struct Normalizer {
    public init() {}
    public mutating func normalize(_ text: String, into out: inout NormalizedText) {
        out.bytes.removeAll(keepingCapacity: true); out.scalarStart.removeAll(keepingCapacity: true); out.scalarEnd.removeAll(keepingCapacity: true)
        for (i, scalar) in text.lowercased().unicodeScalars.enumerated() {
            for b in String(scalar).utf8 { out.bytes.append(b); out.scalarStart.append(Int32(i)); out.scalarEnd.append(Int32(i + 1)) }
        }
    }
    public mutating func normalize(_ text: String) -> NormalizedText { var out = NormalizedText(); normalize(text, into: &out); return out }
    public static func normalizeEntry(_ entry: String) -> String { entry.lowercased() }
}
public enum DetectorKind: String, CaseIterable, Sendable, Codable { case paymentCard = "payment_card", email, phone, iban, password }
public enum Detectors {
    public static func find(_ kind: DetectorKind, in utf8: UnsafeBufferPointer<UInt8>, into found: inout [Range<Int>]) {}
}
public struct TextStats: Sendable, Equatable {
    public var scalars = 0, letters = 0, uppercase = 0, links = 0, mentions = 0, longestRun = 0
    public var capsRatio: Double { letters == 0 ? 0 : Double(uppercase) / Double(letters) }
    public static func measure(_ utf8: UnsafeBufferPointer<UInt8>) -> TextStats { TextStats() }
}
