import Foundation

/// A model file that cannot be used, with the file it came from and what to do.
public struct ModelFileError: Error, Sendable, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// The on-disk form of a `TextModel` (`rules/models/NAME.model`).
///
/// Binary, little-endian, because the file is data for the machine, versioned and checked:
/// floats round-trip exactly (so `make models` can be compared byte for byte and the ruleset
/// digest changes only when a weight does), it is a fifth the size of the same weights in
/// decimal text, and reading it is a copy rather than a parse. Moderators never edit it;
/// they read it through `warden explain` and `warden learn --eval`.
///
///     magic     8 bytes  "WARDENLM"
///     version   u16      2 (1 scaled by the number of features, which let repeated text
///                        saturate a score; 2 by the norm of the feature counts)
///     features  u8 bucket bits, u8 char n-gram length, u8 word bigrams (0/1), u8 0
///     label     u16 length, then UTF-8
///     bias      f32
///     count     u32      weights stored
///     weights   count × (u32 bucket, f32 weight), buckets ascending; absent buckets weigh 0
///     checksum  u64      FNV-1a of every byte before it
///
/// A reader refuses any other version with a message that says which it found, so that an
/// old binary never scores with a model it would misread.
public enum ModelFile {
    public static let magic = Array("WARDENLM".utf8)
    public static let version: UInt16 = 2

    /// The file's bytes for `model`: weights whose magnitude is below `pruneBelow` are left
    /// out (they weigh 0 when read back).
    public static func encode(_ model: TextModel, pruneBelow: Float = 0) -> [UInt8] {
        var out = magic
        func u16(_ v: UInt16) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) { for k in 0..<4 { out.append(UInt8((v >> (8 * UInt32(k))) & 0xFF)) } }
        func u64(_ v: UInt64) { for k in 0..<8 { out.append(UInt8((v >> (8 * UInt64(k))) & 0xFF)) } }
        u16(version)
        out += [UInt8(model.features.bucketBits), UInt8(model.features.charGram), model.features.wordBigrams ? 1 : 0, 0]
        let label = Array(model.label.utf8.prefix(Int(UInt16.max)))
        u16(UInt16(label.count))
        out += label
        u32(model.bias.bitPattern)
        let kept = model.weights.indices.filter { model.weights[$0] != 0 && abs(model.weights[$0]) >= pruneBelow }
        u32(UInt32(kept.count))
        for index in kept {
            u32(UInt32(index))
            u32(model.weights[index].bitPattern)
        }
        u64(checksum(out[...]))
        return out
    }

    /// Reads a model; `path` names the file in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws(ModelFileError) -> TextModel {
        func fail(_ reason: String) -> ModelFileError { ModelFileError(path: path, reason: reason) }
        guard bytes.count >= magic.count + 2, Array(bytes[0..<magic.count]) == magic else {
            throw fail("not a Warden model file (it does not start with \"WARDENLM\"); rebuild it with `make models` or `warden learn`")
        }
        var at = magic.count
        func u16() -> UInt16? {
            guard at + 2 <= bytes.count else { return nil }
            defer { at += 2 }
            return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
        }
        func u32() -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            defer { at += 4 }
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
        }
        guard let fileVersion = u16() else { throw fail("truncated model file") }
        guard fileVersion == version else {
            throw fail("model file version \(fileVersion), but this warden reads version \(version); rebuild it with `make models` or `warden learn`")
        }
        guard bytes.count >= at + 8 + 8 else { throw fail("truncated model file") }
        let stored = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[bytes.count - 8 + $1]) << (8 * UInt64($1)) }
        guard stored == checksum(bytes[0..<(bytes.count - 8)]) else {
            throw fail("the model file is corrupt (checksum mismatch); rebuild it with `make models` or `warden learn`")
        }
        let config = FeatureConfig(bucketBits: Int(bytes[at]), charGram: Int(bytes[at + 1]), wordBigrams: bytes[at + 2] != 0)
        at += 4
        guard config.isValid else {
            throw fail("unsupported feature settings (bucket bits \(config.bucketBits), character n-grams \(config.charGram))")
        }
        guard let labelLength = u16(), at + Int(labelLength) <= bytes.count else { throw fail("truncated model file") }
        let label = String(decoding: bytes[at..<(at + Int(labelLength))], as: UTF8.self)
        at += Int(labelLength)
        guard let biasBits = u32(), let count = u32() else { throw fail("truncated model file") }
        let buckets = 1 << config.bucketBits
        guard Int(count) <= buckets, at + Int(count) * 8 + 8 == bytes.count else {
            throw fail("the model file is corrupt (\(count) weights do not fit its size)")
        }
        var weights = [Float](repeating: 0, count: buckets)
        var last = -1
        for _ in 0..<count {
            guard let index = u32(), let bits = u32() else { throw fail("truncated model file") }
            guard Int(index) < buckets, Int(index) > last else {
                throw fail("the model file is corrupt (weight for bucket \(index) out of order or out of range)")
            }
            let weight = Float(bitPattern: bits)
            guard weight.isFinite else { throw fail("the model file is corrupt (a weight is not a finite number)") }
            weights[Int(index)] = weight
            last = Int(index)
        }
        let bias = Float(bitPattern: biasBits)
        guard bias.isFinite else { throw fail("the model file is corrupt (the bias is not a finite number)") }
        return TextModel(label: label, features: config, bias: bias, weights: weights)
    }

    /// Reads the model at `path`.
    public static func read(path: String) throws(ModelFileError) -> TextModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path: path, reason: "model file not found or not readable; build it with `make models` or `warden learn`")
        }
        return try decode([UInt8](data), path: path)
    }

    /// Writes `model` to `path` (through a temporary file and a rename, so a reader never sees half a model).
    public static func write(_ model: TextModel, to path: String, pruneBelow: Float = 0) throws(ModelFileError) {
        let bytes = encode(model, pruneBelow: pruneBelow)
        let temporary = path + ".tmp"
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            throw ModelFileError(path: path, reason: "cannot write the model: \(error.localizedDescription)")
        }
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
