/// 64-bit FNV-1a: a cheap hash that is stable across runs (unlike `hashValue`, which is
/// seeded per process). The judge digests normalised text with it for repeat detection,
/// and the daemon shards authors with it, so both must stay the same function.
public enum FNV1a {
    @inlinable
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
